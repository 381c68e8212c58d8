"""Staff members of a tenant, with hashed PINs."""

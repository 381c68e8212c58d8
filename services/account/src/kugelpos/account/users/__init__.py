"""Users of a tenant: registration, roles, listing."""

"""Items: the tenant's common item master."""

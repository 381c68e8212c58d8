"""Tenant setup: the collections and indexes of a tenant's master-data database."""

"""Stores of a tenant (embedded in the tenant record)."""

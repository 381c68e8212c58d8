"""Item categories of a tenant (flat list)."""

"""The tax master: read-only, from configuration (TAX_MASTER, TAX_MASTER_BY_TENANT)."""

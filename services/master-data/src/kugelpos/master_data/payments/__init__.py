"""Payment methods of a tenant (code 01 is cash by convention)."""

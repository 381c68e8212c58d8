"""The per-tenant change log and the store's data feed built on it (issue 27)."""

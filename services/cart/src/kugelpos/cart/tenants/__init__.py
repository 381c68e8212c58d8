"""Tenant setup: collections and indexes of `db_cart_<tenant>` and the shared outbox."""

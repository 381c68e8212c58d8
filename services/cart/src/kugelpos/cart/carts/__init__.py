"""Carts: the sale in progress (Dapr `cartstore`, one document per cart, ETag-guarded)."""

"""Tenants: creation here and set-up in every other service, update, delete."""

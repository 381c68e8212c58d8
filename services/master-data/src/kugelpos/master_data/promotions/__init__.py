"""Promotions (category discounts), soft-deleted, selectable by what is active now."""

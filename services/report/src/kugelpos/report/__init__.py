"""Kugel POS Report service."""

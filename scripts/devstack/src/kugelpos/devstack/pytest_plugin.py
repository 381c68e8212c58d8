"""Pytest plugin placeholder; fixtures land with the launcher."""

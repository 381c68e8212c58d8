"""Password login and token introspection."""

"""Terminal JWTs: issued for an API key, re-issued after each lifecycle change."""

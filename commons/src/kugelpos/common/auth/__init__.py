"""Credentials: JWTs, password and API-key hashing, and the FastAPI dependencies."""

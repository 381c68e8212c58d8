"""Per-tenant MongoDB access: client, documents, typed repositories, transactions."""

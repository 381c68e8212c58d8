"""Terminals: create/register, list, get, delete, description, function mode, API keys."""

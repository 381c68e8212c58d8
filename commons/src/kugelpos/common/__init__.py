"""Shared library of the Kugel POS services: settings, envelope, errors, data access, auth,
inter-service clients and observability. Every service builds on it; nothing here knows a
particular service."""

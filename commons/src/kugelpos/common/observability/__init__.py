"""Correlation ids, structured logs, request logging, metrics and health."""

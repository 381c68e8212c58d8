"""A local, Dapr-compatible sidecar serving many apps on one port (development and tests only)."""

__version__ = "0.1.0"

"""The production service registry and what is generated from it.

`services.SERVICES` is the one list of services (name, ASGI app, port, database prefix); the
deploy files under deploy/ are written from it (`python -m kugelpos.registry.deploy`), the
delivery pipeline builds an image for each entry, and the launcher, the tests and the
benchmarks start what it lists. Production tooling: it imports no dev tooling (no launcher,
embedded MongoDB, test kit or benchmarks), which tests/test_import_boundaries.py checks.
"""

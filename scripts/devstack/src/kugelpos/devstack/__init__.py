"""The embedded local stack: Redis (or Valkey), a MongoDB wire server, the local Dapr sidecar
and the services, started in the background for `make run`, the tests and the benchmarks.

Entry points: `stack.Stack` (code), `python -m kugelpos.devstack run|stop|status` (CLI),
`pytest_plugin` (fixtures), `python -m kugelpos.devstack.bench` (make bench). The list of
services lives in `services.SERVICES`. Kept import-free so `python -m kugelpos.devstack.mongo`
starts without loading the launcher.
"""

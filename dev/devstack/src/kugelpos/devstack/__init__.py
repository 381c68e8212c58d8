"""The launcher of the local stack: Redis (or Valkey), one embedded MongoDB wire server per
service, the local Dapr sidecar and the services, started in the background for `make run`,
the tests and the benchmarks.

Entry points: `stack.Stack` (code), `python -m kugelpos.devstack run|stop|status` (CLI),
`python -m kugelpos.devstack.demo` (make demo), `python -m kugelpos.devstack.idle`. What it
starts comes from the registry (`kugelpos.registry.services.SERVICES`); the wire servers are
`python -m kugelpos.embedded_mongo`; `pos` drives a store's tills through the HTTP APIs for the
demo, the tests and the benchmarks.
"""

"""The embedded MongoDB of the local stack: mongoeco's wire server with the workarounds the
services' use of it needs (a transaction gate, index-backed unique checks and filters, database
sizes), so none of them lives in production code.

`python -m kugelpos.embedded_mongo --port N [--engine memory|sqlite --path FILE]` serves one
(`server`); the launcher (`kugelpos.devstack`) starts one per service. Kept import-free so the
server starts without loading anything it does not need.
"""

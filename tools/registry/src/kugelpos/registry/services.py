"""The one list of services the launcher, the tests, the benchmarks and the compose check use.

A new service joins the local stack, the `stack` test fixture and the docker-compose structure
test by adding one entry to SERVICES.
"""

from __future__ import annotations

from dataclasses import dataclass

MONGO_PORT_BASE = 27100


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one FastAPI service."""

    name: str  # kebab-case service name, also the Dapr app-id unless app_id says otherwise
    asgi: str  # "module:attribute" that uvicorn imports
    port: int  # default port (make run, docker-compose)
    db_prefix: str  # MongoDB database prefix: <db_prefix>_<tenant_id>
    app_id: str = ""

    @property
    def dapr_app_id(self) -> str:
        return self.app_id or self.name

    @property
    def mongo_port(self) -> int:
        """`make run` port of the service's own MongoDB wire server: 27100 + (port - 8000)."""
        return MONGO_PORT_BASE + self.port - 8000

    @property
    def env_suffix(self) -> str:
        """ "master-data" -> "MASTER_DATA", as used in BASE_URL_<NAME> settings."""
        return self.name.upper().replace("-", "_")

    @property
    def base_url_env(self) -> str:
        return f"BASE_URL_{self.env_suffix}"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        name="account", asgi="kugelpos.account.main:app", port=8000, db_prefix="db_account"
    ),
    ServiceSpec(
        name="terminal", asgi="kugelpos.terminal.main:app", port=8001, db_prefix="db_terminal"
    ),
    ServiceSpec(
        name="master-data",
        asgi="kugelpos.master_data.main:app",
        port=8002,
        db_prefix="db_master_data",
    ),
    ServiceSpec(name="cart", asgi="kugelpos.cart.main:app", port=8003, db_prefix="db_cart"),
    ServiceSpec(name="report", asgi="kugelpos.report.main:app", port=8004, db_prefix="db_report"),
    ServiceSpec(
        name="journal", asgi="kugelpos.journal.main:app", port=8005, db_prefix="db_journal"
    ),
    ServiceSpec(name="stock", asgi="kugelpos.stock.main:app", port=8006, db_prefix="db_stock"),
    ServiceSpec(
        name="stored-value",
        asgi="kugelpos.stored_value.main:app",
        port=8007,
        db_prefix="db_stored_value",
    ),
    # Next, in this order as they land (ports are fixed by the contract):
    # terminal 8001 db_terminal, master-data 8002 db_master_data, cart 8003 db_cart,
    # report 8004 db_report, journal 8005 db_journal, stock 8006 db_stock.
)


def service(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in SERVICES)
    raise KeyError(f"unknown service {name!r} (registered: {known})")

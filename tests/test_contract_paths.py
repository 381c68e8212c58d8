"""Every running service still speaks the v1 wire contract (`shared/contract/openapi`): each
contract path and method is served, with at least the contract's parameters. Additions are
allowed; nothing may be renamed or dropped."""

from __future__ import annotations

import json

import httpx
import pytest

from kugelpos.registry.paths import repo_root
from kugelpos.registry.services import SERVICES

CONTRACTS = repo_root().parent / "shared" / "contract" / "openapi"
# Services whose contract is served; report, journal and stock join as they land.
SERVED = [spec.name for spec in SERVICES if (CONTRACTS / f"{spec.name}.json").exists()]


def _contract(name: str) -> dict:
    return json.loads((CONTRACTS / f"{name}.json").read_text())


@pytest.mark.skipif(not CONTRACTS.exists(), reason=f"no contract folder at {CONTRACTS}")
@pytest.mark.parametrize("name", SERVED)
async def test_contract_paths_methods_and_parameters_are_served(stack, name: str) -> None:
    contract = _contract(name)
    async with httpx.AsyncClient(base_url=stack.url(name), timeout=30) as client:
        served = (await client.get("/openapi.json")).json()
    missing = []
    for path, methods in contract["paths"].items():
        mine = served["paths"].get(path)
        if mine is None:
            missing.append(f"path {path}")
            continue
        for method, operation in methods.items():
            if method not in mine:
                missing.append(f"{method.upper()} {path}")
                continue
            params = {p["name"] for p in mine[method].get("parameters", [])}
            wanted = {p["name"] for p in operation.get("parameters", [])}
            missing += [f"{method.upper()} {path} ?{p}" for p in sorted(wanted - params)]
    assert not missing, missing


def test_every_registered_service_with_a_contract_is_checked() -> None:
    if not CONTRACTS.exists():
        pytest.skip(f"no contract folder at {CONTRACTS}")
    assert {"account", "terminal", "master-data", "cart"} <= set(SERVED)


def _fields(spec: dict, name: str) -> set[str]:
    schemas = spec["components"]["schemas"]
    found: set[str] = set()
    for variant in (name, f"{name}-Input", f"{name}-Output"):
        found |= set(schemas.get(variant, {}).get("properties", {}))
    return found


@pytest.mark.skipif(not CONTRACTS.exists(), reason=f"no contract folder at {CONTRACTS}")
@pytest.mark.parametrize("name", SERVED)
async def test_contract_schema_fields_are_kept(stack, name: str) -> None:
    """Every field of every contract schema the service also defines is still there."""
    contract = _contract(name)
    async with httpx.AsyncClient(base_url=stack.url(name), timeout=30) as client:
        served = (await client.get("/openapi.json")).json()
    missing = {}
    for schema in contract["components"]["schemas"]:
        mine = _fields(served, schema)
        if not mine:
            continue  # named differently here; its paths are checked above
        lost = _fields(contract, schema) - mine
        if lost:
            missing[schema] = sorted(lost)
    assert not missing, missing

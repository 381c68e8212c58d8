"""The served API keeps the v1 contract: every path, method and parameter, and every field
of the request and response schemas (additions allowed, nothing renamed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONTRACT = Path(__file__).parents[3].parent / "shared" / "contract" / "openapi" / "terminal.json"


@pytest.fixture(scope="module")
def contract() -> dict:
    if not CONTRACT.exists():
        pytest.skip(f"contract not found at {CONTRACT}")
    return json.loads(CONTRACT.read_text())


async def test_paths_methods_and_parameters(env, contract) -> None:
    served = (await env.http.get("/openapi.json")).json()
    for path, methods in contract["paths"].items():
        assert path in served["paths"], path
        for method, operation in methods.items():
            assert method in served["paths"][path], (method, path)
            mine = {p["name"] for p in served["paths"][path][method].get("parameters", [])}
            theirs = {p["name"] for p in operation.get("parameters", [])}
            assert theirs <= mine, (method, path, theirs - mine)


def _fields(spec: dict, name: str) -> set[str]:
    return set(spec["components"]["schemas"].get(name, {}).get("properties", {}))


async def test_schema_fields(env, contract) -> None:
    served = (await env.http.get("/openapi.json")).json()
    names = [n for n in contract["components"]["schemas"] if not n.startswith("ApiResponse")]
    for name in names:
        if name in {"HealthCheckResponse", "ComponentHealth", "HealthStatus", "BaseStaff"}:
            continue
        if name in {"BaseTerminal", "BaseStore"}:
            mine = _fields(served, name[4:])
        else:
            mine = _fields(served, name) or _fields(served, f"{name}-Output")
            mine |= _fields(served, f"{name}-Input")
        theirs = _fields(contract, name)
        assert theirs <= mine, (name, theirs - mine)

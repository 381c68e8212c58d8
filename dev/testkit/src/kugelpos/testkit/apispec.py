"""The served OpenAPI documents as test input: every operation of a service, its path filled
with a fixture's own ids, a minimal valid body synthesized from its schema, and a scan of a
response for secrets.

Used by the access matrix and the schemathesis fuzz run in `tests/security/`, which iterate the
spec so that an endpoint added later is covered without anyone listing it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Operation:
    service: str
    method: str  # upper case
    path: str  # the template, e.g. /api/v1/tenants/{tenant_id}
    spec: Mapping[str, Any]  # the operation object

    @property
    def key(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def is_write(self) -> bool:
        return self.method != "GET"

    def query_params(self) -> list[Mapping[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == "query"]

    def body_schema(self) -> Mapping[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        media = content.get("application/json")
        return None if media is None else media.get("schema", {})

    def form_schema(self) -> Mapping[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        media = content.get("application/x-www-form-urlencoded")
        return None if media is None else media.get("schema", {})


def operations(service: str, document: Mapping[str, Any]) -> Iterator[Operation]:
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield Operation(service, method.upper(), path, item[method])


def fill_path(path: str, values: Mapping[str, str]) -> str:
    """The path with each `{name}` replaced; a name without a value fails loudly so that a
    new parameter is noticed and given a fixture value."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no fixture value for path parameter {name!r} in {path}")
        return str(values[name])

    return _PARAM.sub(value, path)


# Candidate strings tried against a schema's `pattern`, most realistic first.
_CANDIDATES = (
    "S001",
    "01",
    "1",
    "A1",
    "x",
    "20260101",
    "2026-01-01",
    "2026-01-01T00:00:00Z",
    "T0000001",
    "abc_DEF-123",
)


class Synthesizer:
    """A minimal instance of a JSON schema of one OpenAPI document: required properties only,
    the first enum value, the smallest number allowed, strings that match their pattern."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in schema:
            node: Any = self.document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def sample(self, schema: Mapping[str, Any], depth: int = 0) -> Any:
        schema = self.resolve(schema)
        if depth > 8:
            return None
        if "example" in schema:
            return schema["example"]
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                options = [self.resolve(s) for s in schema[combinator]]
                chosen = next((s for s in options if s.get("type") != "null"), options[0])
                return self.sample(chosen, depth + 1)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged |= dict(self.resolve(part))
            return self.sample(merged, depth + 1)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            return {
                name: self.sample(props[name], depth + 1)
                for name in schema.get("required", [])
                if name in props
            }
        if kind == "array":
            items = schema.get("items", {})
            return [self.sample(items, depth + 1) for _ in range(max(1, schema.get("minItems", 1)))]
        if kind == "integer":
            return max(int(schema.get("minimum", 1)), int(schema.get("exclusiveMinimum", 0)) + 1)
        if kind == "number":
            return float(schema.get("minimum", 1))
        if kind == "boolean":
            return False
        if kind == "string":
            return self._string(schema)
        return None

    @staticmethod
    def _string(schema: Mapping[str, Any]) -> str:
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2026-01-01T00:00:00Z"
        if fmt == "date":
            return "2026-01-01"
        low = int(schema.get("minLength", 1))
        high = int(schema.get("maxLength", max(low, 16)))
        pattern = schema.get("pattern")
        for candidate in _CANDIDATES:
            if low <= len(candidate) <= high and (pattern is None or re.search(pattern, candidate)):
                return candidate
        return (string.ascii_uppercase * 4)[: max(low, 1)]


# Response keys that must never carry a real secret. The v1 account contract keeps `password`
# and `hashedPassword` in its user shape, masked (see MASKED); terminal creation and key
# regeneration return `apiKey` on purpose (ALLOWED_API_KEY_OPERATIONS in the tests).
SECRET_KEYS = frozenset(
    {
        "password",
        "hashedpassword",
        "hashed_password",
        "pin",
        "pinhash",
        "pin_hash",
        "hashedpin",
        "hashed_pin",
        "apikey",
        "api_key",
        "apikeyhash",
        "api_key_hash",
        "secret",
        "secretkey",
        "secret_key",
        "apptoken",
        "app_api_token",
        "appapitoken",
    }
)
MASKED = "*****"


def secret_findings(
    body: Any,
    known_secrets: Mapping[str, str],
    *,
    allowed_keys: frozenset[str] = frozenset(),
    raw: str = "",
) -> list[str]:
    """What in a response looks like a secret: a key of SECRET_KEYS holding anything but the
    mask or null, or any known secret value anywhere in the raw text."""
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                lowered = str(key).lower()
                if (
                    lowered in SECRET_KEYS
                    and lowered not in allowed_keys
                    and value not in (None, MASKED, "")
                ):
                    found.append(f"key {where}.{key}")
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(body, "$")
    for label, value in known_secrets.items():
        if value and value in raw:
            found.append(f"value of {label}")
    return found

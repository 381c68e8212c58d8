"""Reads the Dapr component files (`kind: Component`) that real daprd reads too."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kugelpos.sidecar.logs import log

SUPPORTED_TYPES = ("pubsub.redis", "state.redis")
# daprd replaces `{uuid}` in a pub/sub's consumerID with a fresh UUID per sidecar start, so each
# instance reads the topic in a consumer group of its own: every replica gets every message.
UUID_TEMPLATE = "{uuid}"


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    type: str
    version: str = "v1"
    metadata: dict[str, str] = field(default_factory=dict)
    # The app ids that load the component (top-level `scopes`); empty: every app.
    scopes: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """Building block of the component: "pubsub" or "state"."""
        return self.type.split(".", 1)[0]

    @property
    def per_instance_groups(self) -> bool:
        """True when every sidecar instance needs its own consumer group (broadcast)."""
        return UUID_TEMPLATE in self.metadata.get("consumerID", "")


@dataclass(frozen=True, slots=True)
class Components:
    pubsubs: dict[str, Component]
    state_stores: dict[str, Component]

    def all(self) -> list[Component]:
        return [*self.pubsubs.values(), *self.state_stores.values()]


def _metadata(items: Any) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in items or []:
        # Secret references need a secret store the sidecar does not have; plain values only.
        if isinstance(item, dict) and "name" in item and "value" in item:
            result[str(item["name"])] = str(item["value"])
    return result


def _parse(doc: Any, source: Path) -> Component | None:
    if not isinstance(doc, dict) or doc.get("kind") != "Component":
        return None
    name = (doc.get("metadata") or {}).get("name")
    spec = doc.get("spec") or {}
    ctype = spec.get("type")
    if not name or not ctype:
        log.warning("component_invalid", file=str(source))
        return None
    return Component(
        name=str(name),
        type=str(ctype),
        version=str(spec.get("version") or "v1"),
        metadata=_metadata(spec.get("metadata")),
        scopes=tuple(str(app) for app in doc.get("scopes") or ()),
    )


def load_components(path: Path) -> Components:
    pubsubs: dict[str, Component] = {}
    stores: dict[str, Component] = {}
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else []
    if not files:
        log.warning("components_missing", path=str(path))
    for file in files:
        for doc in yaml.safe_load_all(file.read_text(encoding="utf-8")):
            component = _parse(doc, file)
            if component is None:
                continue
            if component.type not in SUPPORTED_TYPES:
                # Secret stores serve daprd's secretKeyRef (Redis passwords): this sidecar
                # reaches Redis through --redis-url and needs none.
                quiet = component.type.startswith("secretstores.")
                (log.info if quiet else log.warning)(
                    "component_unsupported", name=component.name, type=component.type
                )
                continue
            target = pubsubs if component.kind == "pubsub" else stores
            target[component.name] = component
            log.info("component_loaded", name=component.name, type=component.type)
    return Components(pubsubs=pubsubs, state_stores=stores)

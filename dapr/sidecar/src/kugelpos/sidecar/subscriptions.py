"""An app's programmatic subscriptions, as its `GET /dapr/subscribe` declares them."""

import re
from dataclasses import dataclass, field
from typing import Any

from kugelpos.sidecar.logs import log


@dataclass(frozen=True, slots=True)
class Rule:
    match: str
    path: str


@dataclass(frozen=True, slots=True)
class Subscription:
    app_id: str
    pubsubname: str
    topic: str
    rules: tuple[Rule, ...] = ()
    default_route: str = ""
    dead_letter_topic: str = ""
    metadata: dict[str, str] = field(default_factory=dict, hash=False, compare=True)

    @property
    def raw_payload(self) -> bool:
        return self.metadata.get("rawPayload", "").lower() == "true"

    def route_for(self, event: dict[str, Any]) -> str:
        """First rule whose `match` holds, else the default route; "" means no route."""
        for rule in self.rules:
            if rule.match and matches(rule.match, event):
                return rule.path
        return self.default_route

    def describe(self) -> dict[str, Any]:
        """The shape daprd's /v1.0/metadata uses, plus the app id since apps share this sidecar."""
        rules = [{"match": r.match, "path": r.path} for r in self.rules]
        if self.default_route:
            rules.append({"match": "", "path": self.default_route})
        return {
            "appID": self.app_id,
            "pubsubname": self.pubsubname,
            "topic": self.topic,
            "deadLetterTopic": self.dead_letter_topic,
            "metadata": dict(self.metadata),
            "rules": rules,
            "type": "PROGRAMMATIC",
        }


def _route(path: Any) -> str:
    text = str(path or "").strip()
    return text if not text or text.startswith("/") else f"/{text}"


def parse_subscriptions(app_id: str, payload: Any) -> list[Subscription]:
    """Accepts both forms Dapr documents: `route` (v1) and `routes: {rules, default}` (v2)."""
    if not isinstance(payload, list):
        log.warning("subscribe_invalid", app_id=app_id, reason="not a JSON list")
        return []
    result: list[Subscription] = []
    for item in payload:
        if not isinstance(item, dict) or not item.get("pubsubname") or not item.get("topic"):
            log.warning("subscribe_entry_invalid", app_id=app_id, entry=item)
            continue
        routes = item.get("routes") if isinstance(item.get("routes"), dict) else {}
        rules = tuple(
            Rule(match=str(r.get("match", "")), path=_route(r.get("path")))
            for r in routes.get("rules") or []
            if isinstance(r, dict) and r.get("path")
        )
        default = _route(routes.get("default") or item.get("route") or "")
        metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
        result.append(
            Subscription(
                app_id=app_id,
                pubsubname=str(item["pubsubname"]),
                topic=str(item["topic"]),
                rules=rules,
                default_route=default,
                dead_letter_topic=str(item.get("deadLetterTopic") or ""),
                metadata={str(k): str(v) for k, v in metadata.items()},
            )
        )
    return result


# Dapr evaluates `match` as CEL over the CloudEvent. The sidecar understands the common subset:
# comparisons of `event.<attr>[.<field>...]` with a quoted string or number, and the presence
# test `has(event.<attr>.<field>)` (negated with `!`), joined by && or ||.
_COMPARISON = re.compile(
    r"^\s*event((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*(==|!=)\s*"
    r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|true|false)\s*$"
)
_PRESENCE = re.compile(r"^\s*(!?)\s*has\(\s*event((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*\)\s*$")
_ABSENT = object()


def _lookup(event: dict[str, Any], dotted: str) -> Any:
    value: Any = event
    for part in dotted.strip(".").split("."):
        if not isinstance(value, dict) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def _literal(text: str) -> Any:
    if text[0] in "\"'":
        return text[1:-1].encode().decode("unicode_escape")
    if text in ("true", "false"):
        return text == "true"
    return float(text) if "." in text else int(text)


def _term(expr: str, event: dict[str, Any]) -> bool:
    presence = _PRESENCE.match(expr)
    if presence is not None:
        present = _lookup(event, presence.group(2)) is not _ABSENT
        return present != bool(presence.group(1))
    found = _COMPARISON.match(expr)
    if found is None:
        log.warning("route_match_unsupported", match=expr)
        return False
    left = _lookup(event, found.group(1))
    left = None if left is _ABSENT else left
    right = _literal(found.group(3))
    return (left == right) if found.group(2) == "==" else (left != right)


def matches(expr: str, event: dict[str, Any]) -> bool:
    return any(
        all(_term(term, event) for term in alternative.split("&&"))
        for alternative in expr.split("||")
    )

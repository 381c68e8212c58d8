"""Service invocation access control: the `accessControl` section of a Dapr Configuration.

The policies are the called app's (its sidecar's `--config`); they name calling apps. Evaluated
as daprd documents it (operations/configuration/invoke-allowlist):

1. no `accessControl` (or an empty one): every call is allowed;
2. no global `defaultAction` but app policies: the global default is deny;
3. a caller whose identity cannot be verified (here: a sidecar without API tokens) gets the
   global default; so does a caller without a policy, or whose trust domain or namespace differs;
4. within the caller's policy, an operation that matches decides by its verb (`httpVerb`, `*` for
   any), a verb not listed falls back to the app's `defaultAction`, no matching operation too.

Operations are paths; `*` matches within one segment, a final `/**` any number of segments.
HTTP operations are matched without regard to case, as daprd does. Where two operations of one
policy could both match, daprd's answer depends on the order it stores them; the product's
config.yaml avoids overlapping operations, and here the first listed wins.

Every caller here is in trust domain `public` and namespace `NAMESPACE` (default "default"), as
daprd self-hosted without Sentry names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ALLOW = "allow"
DENY = "deny"
DEFAULT_TRUST_DOMAIN = "public"
DEFAULT_NAMESPACE = "default"


class AccessControlError(ValueError):
    """The Configuration's accessControl cannot be used (daprd refuses to start with it too)."""


@dataclass(frozen=True, slots=True)
class Operation:
    pattern: re.Pattern[str]
    verbs: dict[str, str]  # verb (or "*") -> action

    def action_for(self, verb: str) -> str | None:
        return self.verbs.get(verb) or self.verbs.get("*")


@dataclass(frozen=True, slots=True)
class AppPolicy:
    app_id: str
    trust_domain: str
    namespace: str
    default_action: str
    operations: tuple[Operation, ...]


def _compile(name: str) -> re.Pattern[str]:
    """`/a/*/c` matches one segment for `*`; a trailing `/**` matches the rest of the path."""
    path = "/" + name.lstrip("/")
    rest = path.endswith("/**")
    if rest:
        path = path.removesuffix("/**")
    body = "[^/]*".join(re.escape(piece) for piece in path.split("*"))
    return re.compile(body + ("(?:/.*)?" if rest else "") + r"\Z", re.IGNORECASE | re.DOTALL)


def _action(value: Any, where: str) -> str:
    action = str(value or ALLOW).lower()
    if action not in (ALLOW, DENY):
        raise AccessControlError(f"{where}: action must be allow or deny, not {value!r}")
    return action


@dataclass(frozen=True, slots=True)
class AccessControl:
    default_action: str
    trust_domain: str
    policies: dict[tuple[str, str], AppPolicy]

    @classmethod
    def parse(cls, spec: Any) -> AccessControl | None:
        """None when the Configuration has no access control (everything is allowed)."""
        if not isinstance(spec, dict):
            return None
        policies_spec = spec.get("policies") or []
        if not spec.get("defaultAction") and not spec.get("trustDomain") and not policies_spec:
            return None
        default = spec.get("defaultAction") or (DENY if policies_spec else ALLOW)
        policies: dict[tuple[str, str], AppPolicy] = {}
        for index, item in enumerate(policies_spec):
            where = f"accessControl.policies[{index}]"
            if not isinstance(item, dict):
                raise AccessControlError(f"{where}: not a mapping")
            app_id = str(item.get("appId") or item.get("app") or "")
            trust_domain = str(item.get("trustDomain") or "")
            namespace = str(item.get("namespace") or "")
            if not app_id or not trust_domain or not namespace:
                # daprd: "invalid access control spec. missing trustdomain/namespace/app name"
                raise AccessControlError(f"{where}: appId, trustDomain and namespace are required")
            operations = []
            for op in item.get("operations") or []:
                if not isinstance(op, dict) or not op.get("name"):
                    raise AccessControlError(f"{where}: an operation needs a name")
                action = _action(op.get("action"), where)
                verbs = [str(v).upper() for v in op.get("httpVerb") or []]
                operations.append(
                    Operation(pattern=_compile(str(op["name"])), verbs=dict.fromkeys(verbs, action))
                )
            policies[(app_id, namespace)] = AppPolicy(
                app_id=app_id,
                trust_domain=trust_domain,
                namespace=namespace,
                default_action=_action(item.get("defaultAction") or default, where),
                operations=tuple(operations),
            )
        return cls(
            default_action=_action(default, "accessControl"),
            trust_domain=str(spec.get("trustDomain") or DEFAULT_TRUST_DOMAIN),
            policies=policies,
        )

    def allows(
        self,
        caller: str | None,
        operation: str,
        verb: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        trust_domain: str = DEFAULT_TRUST_DOMAIN,
    ) -> bool:
        """`caller` None: an identity the sidecar could not verify."""
        action = self.default_action
        policy = None if caller is None else self.policies.get((caller, namespace))
        if policy is None or policy.trust_domain != trust_domain:
            return action == ALLOW
        action = policy.default_action
        path = "/" + operation.lstrip("/")
        for op in policy.operations:
            if op.pattern.match(path):
                action = op.action_for(verb.upper()) or policy.default_action
                break
        return action == ALLOW


def load_access_control(path: Path | None) -> AccessControl | None:
    """The accessControl of the Configuration file at `path` (daprd's --config)."""
    if path is None:
        return None
    for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        if isinstance(doc, dict) and doc.get("kind") == "Configuration":
            return AccessControl.parse((doc.get("spec") or {}).get("accessControl"))
    raise AccessControlError(f"{path}: no Dapr Configuration in it")

"""What a call may do, by the app that makes it: the scopes of the components and the
access-control policies of the Configuration, loaded once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from kugelpos.sidecar.access_control import AccessControl, load_access_control
from kugelpos.sidecar.components import Components
from kugelpos.sidecar.scopes import Scopes
from kugelpos.sidecar.settings import Settings


@dataclass(frozen=True, slots=True)
class Policy:
    scopes: Scopes
    access_control: AccessControl | None
    namespace: str

    @classmethod
    def load(cls, settings: Settings, components: Components) -> Policy:
        return cls(
            scopes=Scopes(components.all()),
            access_control=load_access_control(settings.config_path),
            namespace=settings.namespace,
        )


def policy_of(request: Request) -> Policy:
    return request.app.state.policy

"""Which app may use which component and topic, read from the component files as daprd reads them.

- A component's top-level `scopes` (app ids) limits which apps load it; an app outside the list
  does not see the component at all (daprd does not load it in that app's sidecar).
- A pub/sub component's metadata `allowedTopics` (comma-separated) limits the topics anyone may
  use; `publishingScopes` / `subscriptionScopes` (`app1=t1,t2;app2=;...`) limit what each listed
  app may publish or subscribe to (`app=` grants nothing); an app not listed is limited only by
  `allowedTopics`; a topic in `protectedTopics` needs an explicit grant. Spaces are ignored and
  an app named twice gets the union, as in daprd (pkg/scopes, runtime/pubsub IsOperationAllowed).

Parsed once at start-up: a publish looks up two small dicts.
"""

from dataclasses import dataclass

from kugelpos.sidecar.components import Component

PUBLISHING_SCOPES = "publishingScopes"
SUBSCRIPTION_SCOPES = "subscriptionScopes"
ALLOWED_TOPICS = "allowedTopics"
PROTECTED_TOPICS = "protectedTopics"


def _topic_list(value: str) -> frozenset[str]:
    value = value.replace(" ", "")
    return frozenset(value.split(",")) if value else frozenset()


def _app_scopes(value: str) -> dict[str, frozenset[str]]:
    """`app1=t1,t2;app2=` -> {app1: {t1, t2}, app2: {""}}: `app=` yields the empty topic name,
    which matches no topic, daprd's way of granting nothing."""
    granted: dict[str, set[str]] = {}
    value = value.replace(" ", "")
    for entry in value.split(";") if value else ():
        app, sep, listed = entry.partition("=")
        if sep and app:
            granted.setdefault(app, set()).update(listed.split(","))
    return {app: frozenset(topics) for app, topics in granted.items()}


def component_visible(component: Component, app_id: str) -> bool:
    """daprd loads a component with `scopes` only in the sidecars of the apps it names."""
    return not component.scopes or app_id in component.scopes


@dataclass(frozen=True, slots=True)
class TopicScopes:
    """The topic scoping of one pub/sub component."""

    allowed: frozenset[str]
    protected: frozenset[str]
    publishing: dict[str, frozenset[str]]
    subscribing: dict[str, frozenset[str]]

    @classmethod
    def of(cls, component: Component) -> "TopicScopes":
        metadata = component.metadata
        return cls(
            allowed=_topic_list(metadata.get(ALLOWED_TOPICS, "")),
            protected=_topic_list(metadata.get(PROTECTED_TOPICS, "")),
            publishing=_app_scopes(metadata.get(PUBLISHING_SCOPES, "")),
            subscribing=_app_scopes(metadata.get(SUBSCRIPTION_SCOPES, "")),
        )

    def _allows(self, granted: frozenset[str] | None, topic: str) -> bool:
        if self.allowed and topic not in self.allowed:
            return False
        if not granted:
            return topic not in self.protected
        return topic in granted

    def may_publish(self, app_id: str, topic: str) -> bool:
        return self._allows(self.publishing.get(app_id), topic)

    def may_subscribe(self, app_id: str, topic: str) -> bool:
        return self._allows(self.subscribing.get(app_id), topic)


class Scopes:
    """Component and topic scopes of every loaded component, by component name."""

    def __init__(self, components: list[Component]) -> None:
        self._components = {c.name: c for c in components}
        self._topics = {c.name: TopicScopes.of(c) for c in components if c.kind == "pubsub"}

    def visible(self, component: str, app_id: str) -> bool:
        found = self._components.get(component)
        return found is not None and component_visible(found, app_id)

    def any_visible(self, kind: str, app_id: str) -> bool:
        return any(
            c.kind == kind and component_visible(c, app_id) for c in self._components.values()
        )

    def may_publish(self, pubsub: str, app_id: str, topic: str) -> bool:
        rules = self._topics.get(pubsub)
        return rules is not None and rules.may_publish(app_id, topic)

    def may_subscribe(self, pubsub: str, app_id: str, topic: str) -> bool:
        rules = self._topics.get(pubsub)
        return (
            rules is not None
            and self.visible(pubsub, app_id)
            and rules.may_subscribe(app_id, topic)
        )

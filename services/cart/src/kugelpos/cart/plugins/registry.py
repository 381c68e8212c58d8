"""Loading the plugin registry file.

`plugins.json` has three lists; each entry names a class (or a factory function) and its
arguments, one line per plugin:

    {"module": "kugelpos.cart.plugins.payments", "class": "PaymentByCash", "args": ["01"]}

The file is read once at start-up (`PLUGINS_FILE`, default the packaged one); a broken entry
stops the service from starting instead of failing sales one by one.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..cache.terminals import TerminalInfo
from ..master_data_client import MasterDataClient
from ..payments.rules import PaymentRule
from ..pricing.engine import Promotion
from ..pricing.money import RoundMethod


class PluginConfigError(RuntimeError):
    """The registry file names something that cannot be loaded."""


@runtime_checkable
class PaymentPlugin(Protocol):
    """One payment code and what its kind of tender may do (the master's flags narrow it)."""

    payment_code: str
    rule: PaymentRule


@runtime_checkable
class SalesPromotionPlugin(Protocol):
    """`snapshot` runs once at cart creation (its JSON-ready result is kept in the cart);
    `promotion` turns the snapshot into a pure `Promotion` the pricing engine runs on every
    recalc (None = nothing to do)."""

    name: str

    def snapshot(self, masters: MasterDataClient, terminal: TerminalInfo) -> Awaitable[Any]: ...

    def promotion(self, snapshot: Any, method: RoundMethod, digits: int) -> Promotion | None: ...


@runtime_checkable
class ReceiptPlugin(Protocol):
    """Renders a tranlog (the event payload shape) to (receipt_text, journal_text)."""

    name: str

    def render(self, tranlog: dict[str, Any]) -> tuple[str, str]: ...


@dataclass
class Plugins:
    payments: dict[str, PaymentPlugin] = field(default_factory=dict)
    promotions: list[SalesPromotionPlugin] = field(default_factory=list)
    receipts: dict[str, ReceiptPlugin] = field(default_factory=dict)

    def payment(self, code: str) -> PaymentPlugin | None:
        return self.payments.get(code)

    def receipt(self, name: str = "default") -> ReceiptPlugin:
        plugin = self.receipts.get(name) or next(iter(self.receipts.values()), None)
        if plugin is None:
            raise PluginConfigError("no receipt plugin is configured")
        return plugin


def _instantiate(entry: dict[str, Any], section: str) -> Any:
    if not isinstance(entry, dict) or "module" not in entry:
        raise PluginConfigError(f"{section}: each entry needs 'module' and 'class'")
    name = entry.get("class") or entry.get("function")
    if not name:
        raise PluginConfigError(f"{section}: entry for {entry['module']} names no class")
    try:
        target = getattr(importlib.import_module(entry["module"]), name)
        return target(*entry.get("args", []), **entry.get("kwargs", {}))
    except Exception as exc:
        raise PluginConfigError(f"{section}: cannot load {entry['module']}.{name}: {exc}") from exc


def load_plugins(path: Path) -> Plugins:
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PluginConfigError(f"cannot read plugin registry {path}: {exc}") from exc
    plugins = Plugins()
    for entry in config.get("payment_strategies", []):
        plugin = _instantiate(entry, "payment_strategies")
        if not isinstance(plugin, PaymentPlugin):
            raise PluginConfigError(f"{type(plugin).__name__} is not a payment plugin")
        if plugin.payment_code in plugins.payments:
            raise PluginConfigError(f"payment code {plugin.payment_code} configured twice")
        plugins.payments[plugin.payment_code] = plugin
    for entry in config.get("sales_promo_strategies", []):
        plugin = _instantiate(entry, "sales_promo_strategies")
        if not isinstance(plugin, SalesPromotionPlugin):
            raise PluginConfigError(f"{type(plugin).__name__} is not a sales promotion plugin")
        plugins.promotions.append(plugin)
    for entry in config.get("receipt_data_strategies", []):
        plugin = _instantiate(entry, "receipt_data_strategies")
        if not isinstance(plugin, ReceiptPlugin):
            raise PluginConfigError(f"{type(plugin).__name__} is not a receipt plugin")
        plugins.receipts[plugin.name] = plugin
    if not plugins.receipts:
        raise PluginConfigError("receipt_data_strategies: at least one receipt plugin is needed")
    return plugins

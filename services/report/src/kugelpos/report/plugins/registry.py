"""Loads report types from a JSON registry (§3.4): a new type is one class and one entry.

    {"report_makers": {"<type>": {"module": "m", "class": "C", "args": ["<master_data>"],
                                  "kwargs": {...}}}}

`<name>` arguments are replaced by the dependency of that name (unknown names are passed
literally); `function` instead of `class` registers a callable `generate_report(request,
figures)` wrapped in a minimal maker. Loaded once per process (the registry is static).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from .base import ReportMaker

DEFAULT_REGISTRY = Path(__file__).with_name("plugins.json")


class _FunctionMaker(ReportMaker):
    def __init__(self, function: Any) -> None:
        self._function = function

    async def generate_report(self, request, figures):  # type: ignore[override]
        result = self._function(request, figures)
        return await result if hasattr(result, "__await__") else result


def _resolve(arg: Any, dependencies: dict[str, Any]) -> Any:
    if isinstance(arg, str) and arg.startswith("<") and arg.endswith(">"):
        return dependencies.get(arg[1:-1], arg)
    return arg


def load_makers(
    dependencies: dict[str, Any], path: Path | str = DEFAULT_REGISTRY
) -> dict[str, ReportMaker]:
    registry = json.loads(Path(path).read_text(encoding="utf-8"))
    makers: dict[str, ReportMaker] = {}
    for key, entry in registry["report_makers"].items():
        module = importlib.import_module(entry["module"])
        if "class" in entry:
            cls = getattr(module, entry["class"])
            args = [_resolve(a, dependencies) for a in entry.get("args", [])]
            kwargs = {k: _resolve(v, dependencies) for k, v in entry.get("kwargs", {}).items()}
            makers[key] = cls(*args, **kwargs)
        else:
            makers[key] = _FunctionMaker(getattr(module, entry["function"]))
    return makers

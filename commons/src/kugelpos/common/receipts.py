"""Receipt documents shared by every service that prints (cart sales, terminal open/close and
cash movements): one list of lines, rendered twice.

- `receipt_text`: the v1 XML print document, `PrintData` → `Page` → `Line` (`type` `Text` or
  `Line` for a separator; `align` `Left`, `Center`, `Right` or `Split`, whose `Item1` is fitted
  to the paper and `Item2` kept whole);
- `journal_text`: the same lines as plain text, `width` display columns per line (East-Asian
  wide characters count 2), `\\n`-terminated.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree as ET

PAPER_WIDTH = 32
WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True, slots=True)
class Line:
    kind: str  # "Text" | "Line" (separator)
    align: str = "Left"  # Left | Center | Right | Split
    text: str = ""
    item2: str = ""


def left(text: str) -> Line:
    return Line("Text", "Left", text)


def center(text: str) -> Line:
    return Line("Text", "Center", text)


def right(text: str) -> Line:
    return Line("Text", "Right", text)


def split(item1: str, item2: str) -> Line:
    return Line("Text", "Split", item1, item2)


BORDER = Line("Line")


def till_line(terminal_no: object, staff: str) -> Line:
    """`レジNo. 1              責# 000123`: the till and the staff member on duty."""
    return split(f"レジNo. {terminal_no}", f"責# {staff}")


def moment_text(moment: datetime) -> str:
    """`2026年11月29日(日) 12:37`: when, as a receipt prints it (in the moment's own zone)."""
    return f"{moment:%Y年%m月%d日}({WEEKDAYS[moment.weekday()]}) {moment:%H:%M}"


def width_of(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def fit(text: str, width: int) -> str:
    """Truncate to `width` display columns, then pad with spaces to exactly `width`."""
    out, used = [], 0
    for ch in text:
        w = width_of(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out) + " " * (width - used)


def rjust(text: str, width: int) -> str:
    return " " * max(0, width - width_of(text)) + text


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value is not None else 0))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def comma(value: Any) -> str:
    """`1,234` for whole amounts, `1,234.5` otherwise."""
    number = _decimal(value)
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,f}"


def yen(value: Any) -> str:
    """`\\1,234` (the yen sign as receipt printers code it), `-\\100` when negative."""
    number = _decimal(value)
    return f"-\\{comma(-number)}" if number < 0 else f"\\{comma(number)}"


def _item1(line: Line, width: int) -> str:
    return fit(line.text, max(width - width_of(line.item2) - 1, 0))


def journal_line(line: Line, width: int = PAPER_WIDTH) -> str:
    if line.kind == "Line":
        return "-" * width
    if line.align == "Split":
        return _item1(line, width) + " " + line.item2
    if line.align == "Center":
        pad = max(0, width - width_of(line.text))
        return fit(" " * (pad // 2) + line.text, width)
    if line.align == "Right":
        return fit(rjust(line.text, width), width)
    return fit(line.text, width)


def render_journal(lines: list[Line], width: int = PAPER_WIDTH) -> str:
    return "".join(journal_line(line, width) + "\n" for line in lines)


def render_print_data(lines: list[Line], width: int = PAPER_WIDTH) -> str:
    root = ET.Element("PrintData")
    page = ET.SubElement(root, "Page")
    for line in lines:
        element = ET.SubElement(page, "Line", type=line.kind, align=line.align)
        if line.kind == "Line":
            continue
        if line.align == "Split":
            ET.SubElement(element, "Item1").text = _item1(line, width)
            ET.SubElement(element, "Item2").text = line.item2
        else:
            element.text = line.text
    ET.indent(root, space="\t")
    return ET.tostring(root, encoding="unicode")

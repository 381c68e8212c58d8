"""Receipt (XML print document) and journal (32-column text) renderings of a lifecycle log.

Informative for printing, not machine-parsed: `receiptText` is a `PrintData/Page/Line` XML
document, `journalText` the same lines as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

WIDTH = 32


@dataclass(frozen=True, slots=True)
class Line:
    kind: str  # "Text" | "Line" (separator)
    align: str = "Left"  # Left | Center | Right | Split
    text: str = ""
    right: str = ""


def title(text: str) -> Line:
    return Line("Text", "Center", text)


def pair(left: str, right: str) -> Line:
    return Line("Text", "Split", left, right)


def separator() -> Line:
    return Line("Line")


def render_journal(lines: list[Line]) -> str:
    out = []
    for line in lines:
        if line.kind == "Line":
            out.append("-" * WIDTH)
        elif line.align == "Split":
            room = max(WIDTH - len(line.right) - 1, 1)
            out.append(f"{line.text[:room]:<{room}} {line.right}")
        elif line.align == "Center":
            out.append(line.text.center(WIDTH).rstrip())
        elif line.align == "Right":
            out.append(line.text.rjust(WIDTH))
        else:
            out.append(line.text)
    return "\n".join(out) + "\n"


def render_receipt(lines: list[Line]) -> str:
    root = ET.Element("PrintData")
    page = ET.SubElement(root, "Page")
    for line in lines:
        element = ET.SubElement(page, "Line", type=line.kind, align=line.align)
        if line.kind == "Line":
            continue
        if line.align == "Split":
            ET.SubElement(element, "Item1").text = line.text
            ET.SubElement(element, "Item2").text = line.right
        else:
            element.text = line.text
    ET.indent(root, space="\t")
    return ET.tostring(root, encoding="unicode")


def header(
    *, store_name: str, terminal_no: int, staff_id: str | None, moment: str, report: str
) -> list[Line]:
    return [
        Line("Text", "Left", store_name),
        pair("Terminal", str(terminal_no)),
        pair("Staff", (staff_id or "").zfill(6) if staff_id else "------"),
        pair("Time", moment[:19].replace("T", " ")),
        separator(),
        title(report),
        separator(),
    ]

"""The shared receipt document: display widths, journal text and the PrintData XML."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from kugelpos.common.receipts import (
    BORDER,
    center,
    comma,
    fit,
    left,
    render_journal,
    render_print_data,
    right,
    split,
    width_of,
    yen,
)


def test_wide_characters_count_two_columns() -> None:
    assert width_of("合計") == 4 and width_of("abc") == 3 and width_of("お釣り 1") == 8


def test_fit_truncates_by_display_width_and_pads() -> None:
    assert fit("合計金額", 5) == "合計 "  # a wide character never splits
    assert fit("ab", 4) == "ab  "


@given(st.text(alphabet="abc合計円 ", max_size=40), st.integers(min_value=0, max_value=40))
def test_fit_is_always_exactly_the_width(text: str, width: int) -> None:
    assert width_of(fit(text, width)) == width


def test_amounts() -> None:
    assert comma(1234567) == "1,234,567" and comma("1150.25") == "1,150.25"
    assert yen(-100) == "-\\100" and yen(2648) == "\\2,648"


def test_journal_lines_are_paper_wide() -> None:
    lines = [left("店"), center("【 入 金 】"), split("金額", "1,234円"), right("x"), BORDER]
    journal = render_journal(lines, 32)
    rows = journal.splitlines()
    assert journal.endswith("\n") and len(rows) == 5
    assert all(width_of(row) == 32 for row in rows)
    assert rows[2].startswith("金額") and rows[2].endswith(" 1,234円")
    assert rows[4] == "-" * 32 and rows[3].endswith("x")


def test_print_data_structure() -> None:
    xml = render_print_data([left("店"), split("合計", "\\100"), BORDER])
    root = ET.fromstring(xml)
    assert root.tag == "PrintData" and root[0].tag == "Page"
    first, second, third = list(root[0])
    assert (first.get("type"), first.get("align"), first.text) == ("Text", "Left", "店")
    assert second.get("align") == "Split"
    assert second.find("Item2").text == "\\100"
    assert width_of(second.find("Item1").text) == 32 - width_of("\\100") - 1
    assert third.get("type") == "Line" and third.text is None

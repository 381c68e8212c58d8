"""Pure rules of the journal (no stack): log -> entry mapping, query building, CSV cells."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from kugelpos.common.events.consumer import EventRejected
from kugelpos.common.events.logs import CashLog, OpenCloseLog, TransactionLog
from kugelpos.journal.errors import JournalDateError, JournalFormatError
from kugelpos.journal.journals import entries, export
from kugelpos.journal.journals.query import build_page, build_query, parse_journal_sort


def test_tranlog_entry(logs):
    log = TransactionLog.model_validate(
        logs.tran("T1", sales={"total_amount_with_tax": 0.3, "is_cancelled": True})
    )
    entry = entries.from_tranlog(log)
    assert entry.transaction_type == -101 and entry.amount == Decimal("0.3")
    assert entry.to_mongo()["amount"] == 0.3 and entry.quantity == 2
    bare = TransactionLog.model_validate(logs.tran("T1") | {"user": None, "staff": None})
    assert entries.from_tranlog(bare).staff_id is None
    with pytest.raises(EventRejected):
        entries.from_tranlog(
            TransactionLog.model_validate(logs.tran("T1", sales={"total_quantity": 1.5}))
        )


@pytest.mark.parametrize(("amount", "code"), [(1, 401), (0, 402), (-0.01, 402), (None, 402)])
def test_cash_entry_type_follows_the_sign(logs, amount, code):
    entry = entries.from_cashlog(CashLog.model_validate(logs.cash("T1", amount=amount)))
    assert entry.transaction_type == code and entry.quantity == 0


def test_open_close_entry(logs):
    close = OpenCloseLog.model_validate(logs.open_close("T1", operation="close"))
    assert entries.from_opencloselog(close).transaction_type == 302


def test_keywords_are_literal_and_ored():
    query = build_query(keywords=["a.b", "(x|y)*"])
    pattern = query.mongo_filter("T1", "S1")["journal_text"]["$regex"]
    assert re.search(pattern, "say a.b") and re.search(pattern, "(x|y)*!")
    assert not re.search(pattern, "axb") and not re.search(pattern, "x")


def test_one_sided_ranges_and_receipt_zero():
    f = build_query(business_date_from="20261201", receipt_no_to=0).mongo_filter("T", "S")
    assert f["business_date"] == {"$gte": "20261201"}
    assert f["receipt_no"] == {"$lte": 0}  # a null receipt_no is outside a range of numbers
    assert build_query(receipt_no_from=0).echo() == {"receipt_no": {"from": 0}}


def test_generate_time_to_is_a_prefix_bound():
    f = build_query(generate_date_time_to="2026-12-01").mongo_filter("T", "S")
    upper = f["generate_date_time"]["$lt"]
    assert "2026-12-01T23:59:59.999999+09:00" < upper < "2026-12-02"


def test_sort_and_page_rules():
    assert parse_journal_sort(None) == [("terminal_no", 1), ("business_date", 1), ("receipt_no", 1)]
    assert parse_journal_sort("amount:-1,receiptNo") == [("amount", -1), ("receipt_no", 1)]
    for bad in ("journal_text:1", "amount:0", "amount:1,amount:1", "a b:1"):
        with pytest.raises(JournalFormatError):
            parse_journal_sort(bad)
    for limit, page in ((0, 1), (1001, 1), (10, 0)):
        with pytest.raises(JournalFormatError):
            build_page(limit, page, None)
    with pytest.raises(JournalDateError):
        build_query(business_date_from="20261202", business_date_to="20261201")


def test_csv_cells():
    text = export.render(
        [{"terminal_no": 1, "amount": 0.1, "journal_text": "@cmd", "staff_id": None}],
        header=True,
    )
    header, row = text.splitlines()
    assert header.split(",")[:3] == ["tenant_id", "store_code", "terminal_no"]
    assert "0.1" in row and "'@cmd" in row

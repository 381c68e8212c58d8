"""Aggregates ≡ raw logs: for any sequence of sales, returns, voids, cancelled sales, split
payments, discounts, cash movements and closes, delivered in any order and with duplicates,
the report from the aggregate documents equals the report recomputed from the raw logs.

The aggregate side is simulated exactly as MongoDB applies it: the inbox refuses a natural
key seen before, and each remaining log's `$inc`/`$set` update (the very document
`HourlyAggregateRepository.update` sends) is applied to its bucket document; the report then
sums the documents of the selection. `test_report_api` checks the same on the real stack.
"""

from __future__ import annotations

import copy
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kugelpos.report.aggregates import HourlyAggregateRepository
from kugelpos.report.figures import Figures, Selection, contribute, figures_from_logs, natural_key
from kugelpos.report.plugins.base import ReportRequest
from kugelpos.report.plugins.registry import load_makers
from kugelpos.report.samples import (
    cash,
    discount,
    line,
    open_close,
    payment,
    tax,
    tran,
    worked_example,
)

TZ = ZoneInfo("Asia/Tokyo")
MAKERS = load_makers({"master_data": None})
TYPES = ("sales", "category", "item", "payment", "promotion", "hourly")

money = st.integers(min_value=0, max_value=50_000).map(lambda v: v / 4)  # quarters: exact


@st.composite
def a_line(draw, no: int):
    promo = draw(st.sampled_from([None, "P1", "P2"]))
    own = [discount(draw(money), promo, "bundle" if promo else None)] if draw(st.booleans()) else []
    allocated = [discount(draw(money))] if draw(st.booleans()) else []
    return line(
        no, draw(st.sampled_from(["A", "B", "C.x", "$D"])), draw(st.sampled_from(["C1", "C2"])),
        draw(money), draw(st.integers(1, 5)), discounts=own, allocated=allocated,
        cancelled=draw(st.booleans()),
    )  # fmt: skip


@st.composite
def a_tran(draw, no: int):
    lines = [draw(a_line(i + 1)) for i in range(draw(st.integers(0, 3)))]
    codes = st.sampled_from(["01", "11", "12"])
    payments = [payment(draw(codes), draw(money)) for _ in range(draw(st.integers(0, 3)))]
    taxes = [
        tax(code, draw(money), draw(money), draw(st.integers(0, 5)), name=f"tax {code}")
        for code in draw(st.sets(st.sampled_from(["01", "02"])))
    ]
    hour = draw(st.integers(0, 23))
    return tran(
        "T1", no, type_=draw(st.sampled_from([101, 101, 102, 201, 202])),
        with_tax=draw(money), discount_total=draw(money), quantity=draw(st.integers(0, 9)),
        taxes=taxes, payments=payments, lines=lines,
        subtotal_discounts=[discount(draw(money))] if draw(st.booleans()) else [],
        cancelled=draw(st.booleans()), terminal=draw(st.integers(1, 2)),
        business_date=draw(st.sampled_from(["20261201", "20261202"])),
        open_counter=draw(st.integers(1, 2)), time=f"2026-12-01T{hour:02d}:30:00+09:00",
    )  # fmt: skip


@st.composite
def a_day(draw):
    logs = [("tran", draw(a_tran(no))) for no in range(1, draw(st.integers(0, 12)) + 1)]
    for _ in range(draw(st.integers(0, 4))):
        amount = draw(st.one_of(st.none(), st.integers(-5000, 5000).map(float)))
        at = f"{draw(st.integers(8, 20)):02d}:{draw(st.integers(0, 59)):02d}:00"
        logs.append(("cash", cash("T1", amount, at=at, terminal=draw(st.integers(1, 2)))))
    if draw(st.booleans()):
        physical = draw(st.one_of(st.none(), money))
        logs.append(("openclose", open_close("T1", "close", physical=physical)))
    # duplicate deliveries (same natural key, possibly another event id), any order
    dupes = [
        copy.deepcopy(logs[i])
        for i in draw(st.lists(st.integers(0, max(len(logs) - 1, 0)), max_size=5))
        if logs
    ]
    return draw(st.permutations(logs + dupes))


def apply_update(doc: dict, update: dict) -> None:
    """`$inc` / `$set` on dotted paths, as MongoDB applies them."""
    for op, fields in update.items():
        for path, value in fields.items():
            parts = path.split(".")
            target = doc
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            if op == "$inc":
                target[parts[-1]] = target.get(parts[-1], 0) + value
            elif op in ("$set", "$setOnInsert"):
                target[parts[-1]] = value


def figures_from_aggregates(logs, selection: Selection) -> Figures:
    docs: dict = {}
    inbox: set = set()
    for topic, log in logs:
        key = natural_key(topic, log)
        if key in inbox:  # unique natural key: the whole delivery rolls back
            continue
        inbox.add(key)
        c = contribute(topic, log, TZ)
        if c.counters or c.names:
            apply_update(docs.setdefault(c.bucket, {}), HourlyAggregateRepository.update(c))
    figures = Figures()
    for bucket, doc in sorted(docs.items()):
        if selection.matches(bucket):
            figures.add(doc.get("c") or {}, doc.get("names") or {}, bucket.hour)
    return figures


def request(report_type: str, selection: Selection) -> ReportRequest:
    return ReportRequest(
        tenant_id="T1", store_code="S1", terminal_no=selection.terminal_no,
        business_date=None, business_date_from=selection.date_from,
        business_date_to=selection.date_to, open_counter=selection.open_counter,
        business_counter=None, report_scope="flash", report_type=report_type, limit=0,
    )  # fmt: skip


selections = st.builds(
    Selection,
    st.just("S1"),
    st.sampled_from(["20261201", "20261202"]),
    st.just("20261202"),
    st.sampled_from([None, 1, 2]),
    st.sampled_from([None, 1, 2]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs=a_day(), selection=selections)
async def test_aggregates_equal_raw_logs(logs, selection):
    from_raw = figures_from_logs(logs, selection, TZ)
    from_agg = figures_from_aggregates(logs, selection)
    nonzero = lambda f: {k: v for k, v in f.counters.items() if v}  # noqa: E731
    assert nonzero(from_agg) == nonzero(from_raw)
    for report_type in TYPES:
        maker = MAKERS[report_type]
        req = request(report_type, selection)
        assert await maker.generate_report(req, from_agg) == await maker.generate_report(
            req, from_raw
        )


async def test_worked_example_equal_both_ways():
    logs = worked_example("T1")
    selection = Selection("S1", "20261201", "20261201")
    req = request("sales", selection)
    a = await MAKERS["sales"].generate_report(req, figures_from_aggregates(logs + logs, selection))
    b = await MAKERS["sales"].generate_report(req, figures_from_logs(logs, selection, TZ))
    assert a == b
    assert a["salesNet"] == {"amount": 3000, "quantity": 2, "count": 1}

"""Aggregates ≡ raw logs: for any sequence of sales, returns, voids, cancelled sales, split
payments, discounts, cash movements and closes, delivered in any order and with duplicates,
the report from the aggregate documents equals the report recomputed from the raw logs.

The aggregate side is simulated exactly as MongoDB applies it: the inbox refuses a natural
key seen before, and each remaining log's `$inc`/`$set` update (the very document
`HourlyAggregateRepository.update` sends) is applied to its bucket document; the report then
sums the documents of the selection. `test_report_api` checks the same on the real stack.

`test_stored_layout_equals_raw_logs` checks the stored layout end to end: the service's own
ingestion (`apply_log`), the `Aggregator` of `rebuild`, and `report_figures` reading what each
report type needs.
"""

from __future__ import annotations

import copy
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kugelpos.report.aggregates import (
    Aggregator,
    HourlyAggregateRepository,
    apply_log,
    plan,
    report_figures,
)
from kugelpos.report.figures import (
    Figures,
    Selection,
    contribute,
    family,
    figures_from_logs,
    natural_key,
)
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


# ---- the stored layout: what the live ingestion, `rebuild` and a report do ------------------
#
# A stand-in for one tenant database, applying updates as MongoDB does (`$inc` / `$set` /
# `$max` on dotted paths, upserts on the filter's fields) and matching the filters the report
# sends (equality, `$gte` / `$lte`, `$in`). Through it run the service's own `apply_log` (every
# layout's `parts` and updates), the `Aggregator` that `rebuild` and the bench use, and
# `report_figures` (the documents `plan` names, and the old layout's until `rebuild`).


def matches(doc: dict, filter_: dict) -> bool:
    for field, condition in filter_.items():
        value = doc.get(field)
        if not isinstance(condition, dict):
            if value != condition:
                return False
            continue
        if "$in" in condition and value not in condition["$in"]:
            return False
        if "$gte" in condition and (value is None or value < condition["$gte"]):
            return False
        if "$lte" in condition and (value is None or value > condition["$lte"]):
            return False
    return True


class FakeCollection:
    def __init__(self) -> None:
        self.docs: dict[tuple, dict] = {}

    def upsert(self, key: dict, update: dict) -> None:
        doc = self.docs.setdefault(tuple(sorted(key.items())), copy.deepcopy(key))
        apply_update(doc, {k: v for k, v in update.items() if k != "$max"})
        for field, value in update.get("$max", {}).items():
            doc[field] = value if doc.get(field) is None else max(doc[field], value)

    async def update_one(self, key: dict, update: dict, *, upsert: bool, session=None) -> None:
        assert upsert
        self.upsert(key, update)

    async def bulk_write(self, ops: list, *, ordered: bool, session=None) -> None:
        for op in ops:  # UpdateOne keeps filter, update and upsert in private attributes
            assert op._upsert
            self.upsert(op._filter, op._doc)

    async def find(self, filter_: dict):
        for doc in list(self.docs.values()):
            if matches(doc, filter_):
                yield copy.deepcopy(doc)

    async def find_one(self, filter_: dict, projection=None):
        return next((d for d in self.docs.values() if matches(d, filter_)), None)


class FakeDb(dict):
    def __missing__(self, name: str) -> FakeCollection:
        self[name] = FakeCollection()
        return self[name]


def delivered_once(logs):
    inbox: set = set()
    for topic, log in logs:
        key = natural_key(topic, log)
        if key not in inbox:  # unique natural key: the whole delivery rolls back
            inbox.add(key)
            yield topic, log


async def live(logs) -> FakeDb:
    db = FakeDb()
    for topic, log in delivered_once(logs):
        await apply_log(db, "T1", topic, log, TZ, session=None)
    return db


def rebuilt(logs) -> FakeDb:
    """As `rebuild` / `add_aggregates`: merged by the `Aggregator`, one upsert per document."""
    merged = Aggregator(TZ)
    for topic, log in delivered_once(logs):
        merged.add(topic, log)
    db = FakeDb()
    for layout, documents in merged.documents.items():
        for slot, c in documents.items():
            db[layout.collection_name].upsert(layout.key("T1", slot), layout.update(c))
    return db


def figures_of(figures: Figures, families) -> dict:
    return {k: v for k, v in figures.counters.items() if v and family(k) in families}


async def assert_reports_equal(db: FakeDb, logs, selection: Selection) -> None:
    from_raw = figures_from_logs(logs, selection, TZ)
    for report_type in TYPES:
        maker = MAKERS[report_type]
        from_agg = await report_figures(
            db, "T1", selection, families=maker.families, per_hour=maker.per_hour
        )
        assert figures_of(from_agg, maker.families) == figures_of(from_raw, maker.families)
        if maker.per_hour:
            for hour in set(from_agg.hours) | set(from_raw.hours):
                assert figures_of(Figures(from_agg.hours.get(hour, {})), maker.families) == (
                    figures_of(Figures(from_raw.hours.get(hour, {})), maker.families)
                )
        req = request(report_type, selection)
        assert await maker.generate_report(req, from_agg) == await maker.generate_report(
            req, from_raw
        )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs=a_day(), selection=selections)
async def test_stored_layout_equals_raw_logs(logs, selection):
    await assert_reports_equal(await live(logs), logs, selection)
    await assert_reports_equal(rebuilt(logs), logs, selection)


async def test_a_report_reads_only_what_its_type_needs():
    store, terminal = (
        Selection("S1", "20261201", "20261201"),
        Selection("S1", "20261201", "20261201", 1),
    )
    documents = lambda report_type, selection: [  # noqa: E731
        (repo.collection_name, sorted(families))
        for repo, families in plan(
            MAKERS[report_type].families, MAKERS[report_type].per_hour, selection
        )
    ]
    assert documents("sales", store) == [("agg_session", ["core"])]
    assert documents("payment", terminal) == [("agg_session", ["core"])]
    assert documents("hourly", store) == [("agg_hour", ["core"])]
    assert documents("item", store) == [("agg_store", ["item"])]
    assert documents("item", terminal) == [("agg_session", ["item"])]
    assert documents("category", store) == [("agg_session", ["cat"])]
    assert documents("promotion", terminal) == [("agg_session", ["promo"])]

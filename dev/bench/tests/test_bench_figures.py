"""The bench's figures read against a floor and goals, and the lag watcher, without a stack."""

import asyncio
from types import SimpleNamespace

from kugelpos.bench import lag
from kugelpos.bench.lag import Tills, Watcher
from kugelpos.bench.timing import Goal, LoadResult


def _result(*latencies: float, **extra) -> LoadResult:
    return LoadResult(len(latencies), 0, 1, 1.0, tuple(latencies), **extra)


def test_figures_without_floor_or_goals_are_unchanged():
    figures = _result(1.0, 2.0).figures()
    assert set(figures) == {
        "concurrency",
        "requests",
        "errors",
        "latency_ms",
        "throughput_rps",
    }


def test_ratio_to_floor_per_percentile():
    floor = _result(*[1.0] * 19, 2.0)  # p50 1, p95 1.05 (interpolated)
    figures = _result(*[3.0] * 19, 21.0, floor=floor).figures()  # p50 3, p95 3.9
    assert figures["ratio_to_floor"] == {"p50": 3.0, "p95": 3.71}


def test_ratio_to_an_empty_floor_is_none():
    assert _result(1.0, floor=_result()).figures()["ratio_to_floor"] == {"p50": None, "p95": None}


def test_goals_against_milliseconds_and_the_floor():
    floor = _result(2.0, 2.0)
    goals = (Goal(50, times_floor=3), Goal(95, ms=20))
    met = _result(5.0, 6.0, floor=floor, goals=goals).figures()
    assert met["goal"] == "p50 <= 3x floor, p95 <= 20 ms"
    assert met["met"] is True
    assert _result(7.0, 7.0, floor=floor, goals=goals).figures()["met"] is False
    assert _result(5.0, 30.0, floor=floor, goals=goals).figures()["met"] is False


def test_a_goal_that_cannot_be_judged_leaves_met_open_unless_another_failed():
    goals = (Goal(50, times_floor=3), Goal(95, ms=20))
    assert _result(5.0, goals=goals).figures()["met"] is None  # no floor
    assert _result(50.0, goals=goals).figures()["met"] is False
    assert _result(goals=(Goal(95, ms=500),)).figures()["met"] is None  # no latencies


def _register(terminal_no: int) -> SimpleNamespace:
    return SimpleNamespace(till=SimpleNamespace(terminal_no=terminal_no))


async def test_watcher_sees_each_bill_once_and_times_out_the_rest(monkeypatch):
    monkeypatch.setattr(lag, "POLL_SECONDS", 0.001)
    numbers = iter(range(1, 100))

    async def sale(register):
        n = next(numbers)
        return {"transactionNo": n, "receiptNo": n, "businessDate": "20260101"}

    polls: list[int] = []

    async def odd_ones(bills):
        polls.append(len(bills))
        return [bill for bill in bills if bill.transaction_no % 2]

    async def broken(bills):
        raise RuntimeError("consumer down")

    seen, dead = Watcher(odd_ones, timeout=0.05), Watcher(broken, timeout=0.05)
    tills = Tills([_register(1), _register(2)], sale)
    run = await asyncio.wait_for(tills.run(6, [seen, dead]), 5)
    assert (run.sales, run.failed, len(run.sale_ms)) == (6, 0, 6)
    assert tills.billed == 6
    assert (len(seen.lags), seen.timeouts) == (3, 3)
    assert (len(dead.lags), dead.timeouts) == (0, 6)
    assert max(polls) <= 6  # one poll asks for every outstanding bill


async def test_a_refused_or_raising_sale_is_counted_failed():
    outcomes = iter([None, RuntimeError("500"), {"transactionNo": 1}])  # the last lacks keys

    async def sale(register):
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    run = await Tills([_register(1)], sale).run(3)
    assert (run.failed, len(run.sale_ms)) == (3, 3)


def test_a_refused_step_is_counted_by_step_status_and_code():
    # The soak reports what failed; a cart that answers add-item with 503 ends the sale there.
    from collections import Counter

    import httpx

    from kugelpos.bench.checkout import timed_checkout
    from kugelpos.devstack.pos import Register, Shop, Till

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/carts"):
            return httpx.Response(201, json={"data": {"cartId": "c1"}})
        return httpx.Response(503, json={"code": "900503", "message": "Circuit open"})

    async def sale() -> tuple[object, Counter[str], list[float]]:
        refused: Counter[str] = Counter()
        adds: list[float] = []
        transport = httpx.MockTransport(answer)
        async with httpx.AsyncClient(transport=transport) as client:
            shop = Shop("T1", "S1", {}, {"cart": "http://cart"})
            register = Register(client, shop, Till("t1", "key", "S1", 1))
            billed = await timed_checkout(register, ["A", "B"], adds, refused=refused)
        return billed, refused, adds

    billed, refused, adds = asyncio.run(sale())
    assert billed is None
    assert refused == Counter({"add_item 503 900503": 1})
    assert len(adds) == 1


def test_a_partial_return_level_reports_bill_quote_and_return_side_by_side():
    from kugelpos.bench.returns import results

    level = results(10, 2.0, 1, [5.0, 7.0], [2.0, 2.0], [8.0, 10.0, 12.0])
    assert [name for name, _ in level] == [
        "cart.return_bill",
        "cart.return_quote",
        "cart.partial_return",
    ]
    returned = dict(level)["cart.partial_return"].figures()
    assert (returned["concurrency"], returned["requests"], returned["errors"]) == (10, 3, 1)
    assert returned["latency_ms"]["p50"] == 10.0
    assert returned["throughput_rps"] == 1.5
    assert dict(level)["cart.return_bill"].figures()["latency_ms"]["p50"] == 6.0


def test_inventory_figures_count_refusals_as_errors_beside_their_details():
    from kugelpos.bench.inventory import BATCH_LINES, batches, item_codes, timed

    codes = item_codes("C", 2_500)
    assert len(set(codes)) == 2_500 and codes[0] == "C00000"
    assert [len(chunk) for chunk in batches(codes)] == [BATCH_LINES, BATCH_LINES, 500]
    figures = timed([900.0, 1100.0], 1, 3.0, items=5_000).figures()
    assert (figures["requests"], figures["errors"], figures["concurrency"]) == (3, 1, 1)
    assert figures["latency_ms"]["p50"] == 1000.0
    assert figures["items"] == 5_000
    assert "items" not in timed([1.0], 0, 1.0).figures()


def test_the_sale_lag_during_a_count_post_reports_the_post_beside_the_idle_lag():
    from kugelpos.bench.inventory import COUNT_ITEMS, lag_results

    level = dict(lag_results(([10.0, 20.0], 0, 1.0), ([40.0, 60.0, 80.0], 1, 2.0), 1234.56))
    assert list(level) == ["stock.sale_lag_idle", "stock.sale_lag_during_count_post"]
    idle = level["stock.sale_lag_idle"].figures()
    assert (idle["requests"], idle["errors"], idle["latency_ms"]["p50"]) == (2, 0, 15.0)
    during = level["stock.sale_lag_during_count_post"].figures()
    assert (during["requests"], during["errors"], during["latency_ms"]["p50"]) == (4, 1, 60.0)
    assert (during["items"], during["post_ms"]) == (COUNT_ITEMS, 1234.6)
    # A refused post is an error of the figure measured during it.
    refused = dict(lag_results(([], 0, 1.0), ([5.0], 0, 1.0), None))
    assert refused["stock.sale_lag_during_count_post"].figures()["errors"] == 1


def test_a_card_payment_level_reports_cash_and_card_side_by_side():
    from kugelpos.bench.cards import results
    from kugelpos.bench.scenarios import load_scenarios

    assert load_scenarios()["cart.card_payment"].default is False  # opt-in
    level = results(1, 2.0, 0, [3.0, 5.0], [10.0, 12.0, 14.0], [20.0], [30.0, 40.0])
    assert [name for name, _ in level] == [
        "cart.cash_payment",
        "cart.card_payment",
        "cart.cash_bill",
        "cart.card_bill",
    ]
    card = dict(level)["cart.card_payment"].figures()
    assert (card["concurrency"], card["requests"], card["errors"]) == (1, 3, 0)
    assert card["latency_ms"]["p50"] == 12.0
    assert card["throughput_rps"] == 1.5
    assert dict(level)["cart.cash_payment"].figures()["latency_ms"]["p50"] == 4.0


def test_the_store_feed_scenario_seeds_what_master_data_writes():
    """`master_data.sync` writes its 20,000 items straight into the tenant database: each must
    be a record master-data reads as its own (and each log entry one it issued)."""
    from datetime import UTC, datetime

    from kugelpos.bench.master_data import SYNC_ITEMS, _seed_item
    from kugelpos.bench.scenarios import load_scenarios
    from kugelpos.master_data.changes.documents import ChangeEntry
    from kugelpos.master_data.items.documents import ItemDocument

    scenario = load_scenarios()["master_data.sync"]
    assert scenario.default is False and "master-data" in scenario.services  # opt-in
    assert SYNC_ITEMS == 20_000
    raw = _seed_item("T1", 7, datetime.now(UTC))
    item = ItemDocument.model_validate(raw)
    assert item.item_code == "SYNC000007" and not item.is_deleted
    assert item.to_mongo().keys() == raw.keys()
    entry = ChangeEntry.model_validate(
        {"seq": 1, "kind": "item", "key": item.item_code, "op": "upsert", "at": raw["created_at"]}
    )
    assert entry.store_code is None


def test_the_offline_upload_is_opt_in_and_its_sales_add_up():
    from kugelpos.bench.offline import offline_sale
    from kugelpos.bench.scenarios import load_scenarios

    assert load_scenarios()["cart.offline_upload"].default is False  # opt-in
    sale = offline_sale("1-7", 107, 5107, {"businessDate": "20260101", "openCounter": 1}, 3)
    line, tax, pay = sale["lineItems"][0], sale["taxes"][0], sale["payments"][0]
    assert line["amount"] == line["unitPrice"] * line["quantity"] == 3000
    assert tax["taxAmount"] == 300 and tax["targetAmount"] == 3000
    assert sale["totalAmountWithTax"] == 3300 == pay["paymentAmount"] == sale["depositAmount"]
    assert (sale["transactionNo"], sale["receiptNo"], sale["offlineId"]) == (107, 5107, "1-7")

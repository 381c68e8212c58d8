"""A session the till carried on offline (issue 27, docs/offline.md): opened online, it sold,
moved cash and closed while the store was cut off, then uploads the cash moves and the close.
The close is applied only after its sales (refused, writing nothing, while the cart has fewer
than it counts); each cash move and the close are taken once however often the upload comes;
the drawer's expected cash counts the offline moves; the journal holds each move and the
close once, and the daily report then counts the session as complete."""

from __future__ import annotations

import asyncio

import httpx

from kugelpos.devstack.pos import OPENING_FLOAT, Register, open_shop
from kugelpos.testkit.testing import assert_error, assert_ok

MOVES = [
    {"offlineId": "cash-1", "amount": 5000, "description": "change from the bank",
     "generateDateTime": "2026-12-07T11:00:00+09:00"},
    {"offlineId": "cash-2", "amount": -2000, "description": "to the safe",
     "generateDateTime": "2026-12-07T12:30:00+09:00"},
]  # fmt: skip


async def _journal_kinds(client: httpx.AsyncClient, shop, till, business_date: str) -> list[int]:
    url = shop.url("journal", f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}/journals")
    params = {
        "terminals": till.terminal_no,
        "business_date_from": business_date,
        "business_date_to": business_date,
        "limit": 100,
    }
    r = await client.get(url, params=params, headers=shop.admin)
    data = assert_ok(r)["data"]
    rows = data["data"] if isinstance(data, dict) else data
    return sorted(j["transactionType"] for j in rows)


async def test_a_session_closed_offline_is_taken_once_after_its_sales(stack):
    names = ("account", "terminal", "master-data", "cart", "report", "journal", "stock")
    urls = {n: stack.url(n) for n in names}
    async with httpx.AsyncClient(timeout=30) as client:
        shop = await open_shop(client, urls, terminals=2)
        till, neighbour = shop.tills
        register = Register(client, shop, till)
        terminal = shop.url("terminal", f"/api/v1/terminals/{till.terminal_id}")
        state = assert_ok(await client.get(terminal, headers=till.headers))["data"]
        session = {"businessDate": state["businessDate"], "openCounter": state["openCounter"]}

        # Two sales reached the cart (online before the outage, or uploaded since).
        first = await register.sale(("4901", 2))
        second = await register.sale(("4905", 1))
        cash_sales = int(first["totalAmountWithTax"]) + int(second["totalAmountWithTax"])
        last_no = max(first["transactionNo"], second["transactionNo"])
        close = {"physicalAmount": OPENING_FLOAT + 3000 + cash_sales, "transactionCount": 3,
                 "lastTransactionNo": last_no + 1,
                 "generateDateTime": "2026-12-07T20:00:00+09:00"}  # fmt: skip
        upload = f"{terminal}/offline-session"

        # The close counts a third sale the cart has not got: refused, nothing written.
        r = await client.post(
            upload, json=session | {"cashMoves": MOVES, "close": close}, headers=till.headers
        )
        assert "2 have arrived" in assert_error(r, 409, "406302")["message"]
        assert assert_ok(await client.get(terminal, headers=till.headers))["data"]["status"] == (
            "Opened"
        )
        # A neighbour's key, another session, a malformed move: refused, nothing written.
        r = await client.post(
            upload, json=session | {"cashMoves": MOVES}, headers=neighbour.headers
        )
        assert r.status_code in (401, 403) and r.json()["success"] is False, r.text
        other = session | {"openCounter": session["openCounter"] + 1, "cashMoves": MOVES}
        assert_error(await client.post(upload, json=other, headers=till.headers), 409, "406301")
        zero = [MOVES[0] | {"amount": 0}]
        r = await client.post(upload, json=session | {"cashMoves": zero}, headers=till.headers)
        assert 400 <= r.status_code < 500 and r.json()["success"] is False

        # The cash moves alone: taken (nothing of the refused uploads was).
        r = await client.post(upload, json=session | {"cashMoves": MOVES}, headers=till.headers)
        taken = assert_ok(r)["data"]
        assert [m["status"] for m in taken["cashMoves"]] == ["accepted", "accepted"]
        assert taken["closeStatus"] is None and taken["status"] == "Opened"

        # The close with the count the cart has (the till's count leaves out a sale the cart
        # rejected): applied after its sales; the moves, sent again, are duplicates.
        close |= {"transactionCount": 2, "lastTransactionNo": last_no}
        body = session | {"cashMoves": MOVES, "close": close}
        r = await client.post(upload, json=body, headers=till.headers)
        closed = assert_ok(r)["data"]
        assert [m["status"] for m in closed["cashMoves"]] == ["duplicate", "duplicate"]
        assert closed["closeStatus"] == "accepted" and closed["status"] == "Closed"
        figures = closed["close"]
        assert figures["cartTransactionCount"] == 2
        assert figures["cashInAmount"] == 5000 and figures["cashOutAmount"] == 2000
        assert figures["cashSalesAmount"] == cash_sales
        assert figures["expectedAmount"] == OPENING_FLOAT + 3000 + cash_sales
        assert figures["differenceAmount"] == 0

        # Sent again (its answer was lost): the same close, nothing new.
        again = assert_ok(await client.post(upload, json=body, headers=till.headers))["data"]
        assert again["closeStatus"] == "duplicate"
        assert again["close"]["eventId"] == figures["eventId"]
        assert [m["status"] for m in again["cashMoves"]] == ["duplicate", "duplicate"]
        # A move the closed session never had is refused.
        late = [MOVES[0] | {"offlineId": "cash-3"}]
        r = await client.post(upload, json=session | {"cashMoves": late}, headers=till.headers)
        assert_error(r, 409, "406301")

        # The journal holds the float, two sales, both moves and the open/close once each;
        # the daily report counts the session complete.
        daily = {
            "report_scope": "daily",
            "report_type": "sales",
            "business_date": session["businessDate"],
        }
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            kinds = await _journal_kinds(client, shop, till, session["businessDate"])
            r = await client.get(
                shop.url(
                    "report",
                    f"/api/v1/tenants/{shop.tenant_id}/stores/{shop.store_code}"
                    f"/terminals/{till.terminal_no}/reports",
                ),
                params=daily,
                headers=shop.admin,
            )
            if len(kinds) >= 7 and r.status_code == 200:
                break
            assert asyncio.get_running_loop().time() < deadline, (kinds, r.text)
            await asyncio.sleep(0.2)
        assert kinds.count(101) == 2 and len(kinds) == 7, kinds
        assert assert_ok(r)["data"]["salesGross"]["count"] == 2

"""`make demo`: a demo tenant on the running `make run` stack, and what a newcomer needs next.

The demo tenant has a store, two terminals, items in five categories covering the three tax
kinds (external, internal, exempt), staff with PINs, payment methods and a category promotion;
it then sells a few baskets, takes a return and a partial return (one unit, for a reason),
voids a sale and closes both terminals at the end of the day, so the store's daily sales
report can be printed beside the flash one. The set-up goes through the services' HTTP APIs
(kugelpos.devstack.pos), as a back office and a till would.

Running it again does no harm: the demo's tenant, admin password and terminal keys are kept in
`.data/demo.json` (local data, never committed); a second run finds the tenant there, checks the
admin can still log in, and only prints the summary and the reports (the daily one is refused
while a terminal is open again). `rm .data/demo.json` (or `rm -rf .data`) makes the next run
build a new demo tenant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import httpx

from kugelpos.devstack import pos
from kugelpos.devstack.paths import default_data_dir
from kugelpos.devstack.stack import STATE_FILE
from kugelpos.registry.paths import repo_root

DEMO_FILE = "demo.json"
NEEDED = ("account", "terminal", "master-data", "cart")
# How long the demo waits for the report service to receive every log of the day (the daily
# report is refused until it has them all).
REPORT_WAIT_SECONDS = 60.0

# Category code -> (name, tax code of its items). Tax codes of the default tax master:
# 00 exempt, 01 external 10 %, 02 internal 10 %, 11 external 8 %, 12 internal 8 %.
CATEGORIES: dict[str, tuple[str, str]] = {
    "001": ("Drinks", "11"),
    "002": ("Food", "12"),
    "003": ("Stationery", "00"),
    "004": ("Household", "01"),
    "005": ("Deli", "02"),
}
_NAMES = {
    "001": ["Green Tea", "Coffee", "Orange Juice", "Water 2L", "Milk", "Cola", "Barley Tea"],
    "002": ["Rice Ball", "Sandwich", "Bento", "Bread", "Noodles", "Yogurt", "Salad"],
    "003": ["Stamp", "Postcard", "Revenue Stamp", "Notebook Stamp"],
    "004": ["Detergent", "Tissue", "Batteries", "Umbrella", "Toothbrush", "Light Bulb"],
    "005": ["Fried Chicken", "Croquette", "Oden", "Steamed Bun", "Hot Dog", "Fries"],
}


def demo_items() -> tuple[pos.ItemSpec, ...]:
    items = []
    for category, names in _NAMES.items():
        tax_code = CATEGORIES[category][1]
        for index, name in enumerate(names, start=1):
            price = 100 + 37 * index + 110 * int(category)
            code = f"49{category}{index:03d}"
            items.append(pos.ItemSpec(code, name, price, tax_code, category))
    return tuple(items)


PROMOTION = {
    "promotionCode": "DEMO-DELI10",
    "promotionType": "category_discount",
    "name": "Deli 10% off",
    "description": "Demo promotion: 10 % off every item of category 005 (Deli)",
    "startDatetime": "2000-01-01T00:00:00",
    "endDatetime": "2099-12-31T23:59:59",
    "isActive": True,
    "detail": {"targetCategoryCodes": ["005"], "discountRate": 10},
}
EXTRA_STAFF = (("S002", "Hanako"), ("S003", "Jiro"))
# The reason of the demo's partial return (issue 25): back on the shelf, no approval needed.
RETURN_REASON = {
    "reasonCode": "CHANGED",
    "description": "Customer changed their mind",
    "restock": True,
    "requiresApproval": False,
}


def _pin() -> str:
    return f"{secrets.randbelow(10_000):04d}"


async def _login(client: httpx.AsyncClient, account: str, tenant: str, password: str) -> dict:
    r = await client.post(
        f"{account}/api/v1/accounts/token",
        data={"username": "admin", "password": password, "client_id": tenant},
    )
    return {"Authorization": f"Bearer {pos._check(r, 200)['access_token']}"}


async def _register(client: httpx.AsyncClient, account: str) -> tuple[str, str, dict]:
    """A new DEMO<hex> tenant and its admin: (tenant id, password, bearer header)."""
    password = secrets.token_urlsafe(12)
    for attempt in range(1, 5):
        tenant = "DEMO" + secrets.token_hex(3).upper()
        r = await client.post(
            f"{account}/api/v1/accounts/register",
            json={"username": "admin", "password": password, "tenantId": tenant},
        )
        if r.status_code == 201:
            return tenant, password, await _login(client, account, tenant, password)
        if r.status_code < 500 or attempt == 4:
            pos._check(r, 201)
        await asyncio.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


async def _build(client: httpx.AsyncClient, urls: Mapping[str, str]) -> dict[str, Any]:
    tenant, password, admin = await _register(client, urls["account"])
    md = f"{urls['master-data']}/api/v1/tenants/{tenant}"
    for code, (name, tax_code) in CATEGORIES.items():
        body = {
            "categoryCode": code,
            "description": name,
            "descriptionShort": name[:10],
            "taxCode": tax_code,
        }
        await pos._post(client, f"{md}/categories", 201, headers=admin, json=body)
    items = (*demo_items(), pos.GIFT_CARD_ITEM)
    shop = await pos.open_shop(
        client,
        urls,
        admin,
        tenant,
        terminals=2,
        items=items,
        payments=(*pos.DEFAULT_PAYMENTS, pos.CARD_PAYMENT),
        promotions=[PROMOTION],
    )
    staff = [{"id": pos.STAFF_ID, "name": pos.STAFF_NAME, "pin": pos.STAFF_PIN}]
    for staff_id, name in EXTRA_STAFF:
        pin = _pin()
        body = {"id": staff_id, "name": name, "pin": pin, "roles": []}
        await pos._post(client, f"{md}/staff", 201, headers=admin, json=body)
        staff.append({"id": staff_id, "name": name, "pin": pin})
    await pos._post(client, f"{md}/return-reasons", 201, headers=admin, json=RETURN_REASON)

    first, second = (pos.Register(client, shop, till) for till in shop.tills)
    drinks, food, stamps, household, deli = (
        [item.code for item in items if item.category == c] for c in CATEGORIES
    )
    sales = [
        await first.sale((drinks[0], 2), (food[0], 1), (stamps[0], 1)),
        await first.sale((deli[0], 3), (household[1], 1)),
        await second.sale((food[2], 1), (drinks[3], 1)),
        await second.sale((household[0], 1), (deli[1], 2), (stamps[1], 5)),
        await first.sale((drinks[1], 4)),
    ]
    # A return at the second till of the first till's first sale, and a void of one of the
    # second till's own sales (a void belongs to the till that recorded the sale).
    returned = sales[0]
    url = first.transactions_url(f"/{returned['transactionNo']}/return")
    body = [{"paymentCode": "01", "amount": int(returned["totalAmountWithTax"])}]
    r = await client.post(url, params=second.till.params, headers=second.till.headers, json=body)
    pos._check(r, 200)
    voided = sales[2]
    url = second.transactions_url(f"/{voided['transactionNo']}/void")
    body = [{"paymentCode": "01", "amount": int(voided["totalAmountWithTax"])}]
    r = await client.post(url, params=second.till.params, headers=second.till.headers, json=body)
    pos._check(r, 200)
    # A partial return at the first till (issue 25): one of the three units of its second
    # sale's first line, for a reason; the quote says what to pay back, in cash as it was paid.
    partly = sales[1]
    url = first.transactions_url(f"/{partly['transactionNo']}/return")
    part: dict[str, Any] = {"lines": [{"lineNo": 1, "quantity": 1}], "reasonCode": "CHANGED"}
    r = await client.post(
        f"{url}/quote", params=first.till.params, headers=first.till.headers, json=part
    )
    refund = int(pos._check(r, 200)["data"]["totalAmountWithTax"])
    part["payments"] = [{"paymentCode": "01", "amount": refund}]
    r = await client.post(url, params=first.till.params, headers=first.till.headers, json=part)
    partial = pos._check(r, 200)["data"]

    # The end of the day: each terminal closes with the cash its drawer should hold (every
    # tender is cash; the return and the void paid cash out at the second terminal).
    def paid(*transactions: dict) -> int:
        return sum(int(t["totalAmountWithTax"]) for t in transactions)

    drawers = (
        (first, pos.OPENING_FLOAT + paid(sales[0], sales[1], sales[4]) - paid(partial)),
        (second, pos.OPENING_FLOAT + paid(sales[2], sales[3]) - paid(returned, voided)),
    )
    closes = []
    for register, cash in drawers:
        r = await client.post(
            f"{urls['terminal']}/api/v1/terminals/{register.till.terminal_id}/close",
            headers=register.till.headers,
            json={"physicalAmount": cash},
        )
        data = pos._check(r, 200)["data"]
        closes.append(
            {
                "terminalId": register.till.terminal_id,
                "businessDate": data.get("businessDate"),
                "openCounter": data.get("openCounter"),
            }
        )
    # A gift card to sell and pay with (issue 26), when the stack runs stored value.
    gift_card = None
    if "stored-value" in urls:
        r = await client.post(
            f"{urls['stored-value']}/api/v1/tenants/{tenant}/cards",
            headers=admin,
            json={"kind": "gift", "count": 1},
        )
        gift_card = pos._check(r, 201)["data"][0]["cardNo"]
    return {
        "tenantId": tenant,
        "admin": {"username": "admin", "password": password},
        "giftCard": gift_card,
        "storeCode": shop.store_code,
        "terminals": [
            {"terminalId": t.terminal_id, "terminalNo": t.terminal_no, "apiKey": t.api_key}
            for t in shop.tills
        ],
        "staff": staff,
        "items": len(items),
        "categories": len(CATEGORIES),
        "promotion": PROMOTION["promotionCode"],
        "sales": [sale["transactionNo"] for sale in sales],
        "returnOf": returned["transactionNo"],
        "voidOf": voided["transactionNo"],
        "partialReturnOf": partly["transactionNo"],
        "closed": closes,
        "businessDate": closes[0]["businessDate"] or date.today().strftime("%Y%m%d"),
    }


# ---- the reports ---------------------------------------------------------------------------

# The sales report's figures (report-journal-events §3.7), as printed: key, label.
FIGURES = (
    ("salesGross", "gross sales"),
    ("returns", "returns"),
    ("discountForLineitems", "line discounts"),
    ("discountForSubtotal", "subtotal discounts"),
    ("salesNet", "net sales"),
)
_ROW = "  {label:<22}{count:>7}{quantity:>7}{amount:>12}"


def _yen(amount: float | int | None) -> str:
    value = float(amount or 0)
    return f"{int(value):,}" if value.is_integer() else f"{value:,}"


def figure_row(
    label: str, count: int | str = "", quantity: int | str = "", amount: float | None = None
) -> str:
    """One printed line of a report (the demo's test recomputes it from the demo's sales)."""
    shown = "" if amount is None else _yen(amount)
    return _ROW.format(label=label, count=count, quantity=quantity, amount=shown)


def report_rows(data: Mapping[str, Any]) -> list[str]:
    """A sales report's figures, one line each: counts, quantities and amounts, then the tax,
    each payment method and the cash in the drawers."""
    rows = []
    for key, label in FIGURES:
        rows.append(
            figure_row(label, data[key]["count"], data[key]["quantity"], data[key]["amount"])
        )
        if key == "returns":
            # Issue 25: the returns by reason (a return without one, as v1's, has none).
            for r in data.get("returnsByReason", []):
                reason = f"  {r['reasonCode'] or '(no reason)'}"
                rows.append(figure_row(reason, r["count"], r["quantity"], r["amount"]))
    rows.append(figure_row("tax", amount=sum(t["taxAmount"] for t in data.get("taxes", []))))
    for payment in data.get("payments", []):
        rows.append(
            figure_row(f"paid {payment['paymentName']}", payment["count"], "", payment["amount"])
        )
    cash = data.get("cash") or {}
    rows.append(
        f"  cash in drawers: expected {_yen(cash.get('logicalAmount'))}, counted "
        f"{_yen(cash.get('physicalAmount'))}, difference {_yen(cash.get('differenceAmount'))}"
    )
    return rows


async def terminal_statuses(
    client: httpx.AsyncClient, urls: Mapping[str, str], demo: dict
) -> dict[str, str]:
    """Each demo terminal's status now (`Opened` / `Closed`), as its own API key reads it."""
    statuses = {}
    for till in demo["terminals"]:
        r = await client.get(
            f"{urls['terminal']}/api/v1/terminals/{till['terminalId']}",
            headers={"X-API-KEY": till["apiKey"]},
            params={"terminal_id": till["terminalId"]},
        )
        statuses[till["terminalId"]] = pos._check(r, 200)["data"]["status"]
    return statuses


def _refusal(r: httpx.Response) -> str:
    try:
        body = r.json()
        return f"{r.status_code} {body.get('code')}: {body.get('message')}"
    except ValueError:
        return f"{r.status_code}: {r.text[:200]}"


async def _reports(
    client: httpx.AsyncClient, urls: Mapping[str, str], demo: dict, statuses: Mapping[str, str]
) -> list[str]:
    """The store's flash and daily sales reports of the demo's business date, as lines."""
    if "report" not in urls:
        return ["(no report service on this stack yet: each report is skipped)"]
    url = f"{urls['report']}/api/v1/tenants/{demo['tenantId']}/stores/{demo['storeCode']}/reports"
    admin = await _login(client, urls["account"], demo["tenantId"], demo["admin"]["password"])
    day = {"report_type": "sales", "business_date": demo["businessDate"]}
    open_now = [t for t, status in statuses.items() if status != "Closed"]
    try:
        # Allowed once every terminal has closed and the report service holds every log their
        # closes announced; the logs travel as events, so they may still be on their way.
        deadline = asyncio.get_running_loop().time() + REPORT_WAIT_SECONDS
        while True:
            daily = await client.get(url, headers=admin, params=day | {"report_scope": "daily"})
            if daily.status_code != 403 or open_now:
                break
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.5)
        flash = await client.get(url, headers=admin, params=day | {"report_scope": "flash"})
    except httpx.HTTPError as error:
        return [f"(report service did not answer: {error!r})"]
    lines = [
        f"Sales report of store {demo['storeCode']}, business date {demo['businessDate']}: "
        f"gross sales are the demo's {len(demo['sales'])} sales less the voided one (tax included, "
        "before discounts); net sales = gross - returns - discounts - tax.",
        _ROW.format(label="", count="count", quantity="qty", amount="amount"),
    ]
    for title, r in (
        ("Flash report (interim, any time of the day)", flash),
        ("Daily report (the day closed on every terminal)", daily),
    ):
        if r.status_code == 200:
            lines += [f"{title}:", *report_rows(r.json()["data"])]
        else:
            lines.append(f"{title}: refused, {_refusal(r)}")
    if open_now:
        lines.append(f"  (the daily report waits until {', '.join(open_now)} closes again)")
    lines += [
        "Every report (report_type sales, category, item, payment, promotion; format=csv):",
        f"  curl -s '{url}?report_scope=daily&report_type=sales"
        f"&business_date={demo['businessDate']}' -H 'Authorization: Bearer <access_token>'",
    ]
    return lines


def _summary(
    urls: Mapping[str, str],
    demo: dict,
    statuses: Mapping[str, str],
    report: list[str],
    reused: bool,
) -> str:
    till = next(
        (t for t in reversed(demo["terminals"]) if statuses.get(t["terminalId"]) == "Opened"),
        demo["terminals"][-1],
    )
    opened = statuses.get(till["terminalId"]) == "Opened"
    terminal_url = f"{urls['terminal']}/api/v1/terminals/{till['terminalId']}"
    key = f"-H 'X-API-KEY: {till['apiKey']}' -H 'Content-Type: application/json'"
    lines = [
        f"Demo tenant {demo['tenantId']} ({'reused' if reused else 'created'}), "
        f"store {demo['storeCode']}: {demo['items']} items in {demo['categories']} categories, "
        f"promotion {demo['promotion']}, {len(demo['sales'])} sales, a return (of terminal "
        f"1's #{demo['returnOf']}), a partial return (one unit of terminal 1's "
        f"#{demo.get('partialReturnOf')}, reason CHANGED) and a void (of terminal 2's "
        f"#{demo['voidOf']}), then "
        "the day closed on both terminals.",
        "",
        "Services:",
        *(f"  {name:<12} {url}  (docs: {url}/docs)" for name, url in urls.items()),
        "",
        f"Admin login: tenant {demo['tenantId']}, user admin, password {demo['admin']['password']}",
        f"  curl -s -X POST {urls['account']}/api/v1/accounts/token \\",
        f"    -d 'username=admin&password={demo['admin']['password']}"
        f"&client_id={demo['tenantId']}'",
        "",
        "Terminals (X-API-KEY header, terminal_id query parameter; S001 signed in on both):",
        *(
            f"  {t['terminalId']}  X-API-KEY: {t['apiKey']}  "
            f"({statuses.get(t['terminalId'], 'unknown').lower()})"
            for t in demo["terminals"]
        ),
        "Staff (id / PIN): "
        + ", ".join(f"{s['id']} {s['name']} / {s['pin']}" for s in demo["staff"]),
        "",
        *(
            []
            if opened
            else [
                f"Try it: open terminal {till['terminalId']} for a new session (close it again "
                "with POST …/close to get the daily report back), then start a cart:",
                f"  curl -s -X POST '{terminal_url}/open' {key} \\",
                f"    -d '{{\"initialAmount\": {pos.OPENING_FLOAT}}}'",
            ]
        ),
        *(["Try it (a new cart on the open terminal):"] if opened else []),
        f"  curl -s -X POST '{urls['cart']}/api/v1/carts?terminal_id={till['terminalId']}' \\",
        f"    {key} \\",
        """    -d '{"transactionType": 101, "userId": "S001", "userName": "Taro"}'""",
        *_gift_card_lines(demo),
        "",
        *report,
    ]
    return "\n".join(lines) + "\n"


def _gift_card_lines(demo: dict) -> list[str]:
    card = demo.get("giftCard")
    if not card:
        return []
    return [
        "",
        f"Gift card {card} (issued, not loaded yet): sell it on that cart with",
        f"""  [{{"itemCode": "GIFT", "quantity": 1, "unitPrice": 5000, "cardNo": "{card}"}}]""",
        "  (POST …/lineItems), then pay with it on another cart with payment code 21:",
        f"""  [{{"paymentCode": "21", "amount": 1000, "detail": {{"cardNo": "{card}"}}}}]""",
    ]


def _load(demo_file: Path) -> dict | None:
    try:
        return json.loads(demo_file.read_text())
    except (OSError, ValueError):
        return None


def _save(demo_file: Path, demo: dict) -> None:
    """Local data only (.data/ is git-ignored); readable by its owner alone."""
    demo_file.parent.mkdir(parents=True, exist_ok=True)
    demo_file.touch(mode=0o600)
    demo_file.write_text(json.dumps(demo, indent=2))


async def run_demo(
    urls: Mapping[str, str], demo_file: Path, out: TextIO = sys.stdout
) -> tuple[dict, bool]:
    """Create (or reuse) the demo tenant; print the summary and the reports. Returns (demo
    record, reused)."""
    missing = [name for name in NEEDED if name not in urls]
    if missing:
        raise SystemExit(f"the stack has no {', '.join(missing)}: start it with `make run`")
    async with httpx.AsyncClient(timeout=60) as client:
        demo = _load(demo_file)
        if demo is not None:
            try:
                await _login(client, urls["account"], demo["tenantId"], demo["admin"]["password"])
            except (AssertionError, KeyError):
                print(f"note: {demo_file} names a tenant this stack does not know", file=out)
                demo = None
        reused = demo is not None
        if demo is None:
            demo = await _build(client, urls)
            _save(demo_file, demo)
        statuses = await terminal_statuses(client, urls, demo)
        report = await _reports(client, urls, demo, statuses)
    out.write(_summary(urls, demo, statuses, report, reused))
    return demo, reused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="the stack's .data folder")
    parser.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="SERVICE=URL",
        help="a service's root URL (repeat per service) instead of the local stack's, e.g. "
        "against staging; the demo record then goes to DATA_DIR/demo-<host>.json",
    )
    args = parser.parse_args(argv)
    data_dir = args.data_dir or default_data_dir(repo_root())
    if args.url:
        urls = dict(item.split("=", 1) for item in args.url)
        host = httpx.URL(urls.get("account", "remote")).host or "remote"
        demo_file = data_dir / f"demo-{host}.json"
    else:
        try:
            state = json.loads((data_dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            print(f"no running stack recorded in {data_dir}: run `make run` first", file=sys.stderr)
            return 1
        urls = dict(state.get("services", {}))
        demo_file = data_dir / DEMO_FILE
    try:
        asyncio.run(run_demo(urls, demo_file))
    except (httpx.HTTPError, AssertionError) as error:
        print(f"demo failed: {error}\n(is the stack running? `make run`)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`make demo` on a fresh stack: the demo tenant is built through the APIs, a second run reuses
it and changes nothing, and the summary holds what a newcomer needs next."""

from __future__ import annotations

import io

import httpx

from kugelpos.devstack.demo import CATEGORIES, demo_items, run_demo
from kugelpos.devstack.services import SERVICES


async def test_demo_builds_a_tenant_and_a_second_run_reuses_it(stack, tmp_path):
    urls = {spec.name: stack.url(spec.name) for spec in SERVICES}
    demo_file = tmp_path / "demo.json"
    first_out = io.StringIO()
    demo, reused = await run_demo(urls, demo_file, first_out)
    assert not reused and demo_file.is_file()
    text = first_out.getvalue()
    assert demo["admin"]["password"] in text
    assert all(t["apiKey"] in text for t in demo["terminals"])
    assert urls["cart"] in text and "Daily report" in text
    if "report" not in urls:
        assert "report is skipped" in text

    # Tax kinds: exempt (00), external (01/11) and internal (02/12) all present.
    taxes = {item.tax_code for item in demo_items()}
    assert "00" in taxes and taxes & {"01", "11"} and taxes & {"02", "12"}
    assert len(demo_items()) >= 24 and len(CATEGORIES) >= 3

    tenant, store = demo["tenantId"], demo["storeCode"]
    async with httpx.AsyncClient(timeout=30) as client:
        admin_token = await client.post(
            f"{urls['account']}/api/v1/accounts/token",
            data={"username": "admin", "password": demo["admin"]["password"], "client_id": tenant},
        )
        admin = {"Authorization": f"Bearer {admin_token.json()['access_token']}"}
        r = await client.get(
            f"{urls['master-data']}/api/v1/tenants/{tenant}/items",
            headers=admin,
            params={"limit": 100},
        )
        assert r.status_code == 200 and len(r.json()["data"]) == len(demo_items())
        closed, opened = demo["terminals"]
        for till, status in ((closed, "Closed"), (opened, "Opened")):
            r = await client.get(
                f"{urls['terminal']}/api/v1/terminals/{till['terminalId']}",
                headers={"X-API-KEY": till["apiKey"]},
                params={"terminal_id": till["terminalId"]},
            )
            assert r.json()["data"]["status"] == status
        r = await client.get(
            f"{urls['cart']}/api/v1/tenants/{tenant}/stores/{store}/terminals/2/transactions",
            headers={"X-API-KEY": opened["apiKey"]},
            params={"terminal_id": opened["terminalId"], "limit": 0},
        )
        kinds = sorted(t["transactionType"] for t in r.json()["data"])
        assert kinds.count(101) == 2 and 102 in kinds and 201 in kinds, kinds

    second_out = io.StringIO()
    again, reused = await run_demo(urls, demo_file, second_out)
    assert reused and again == demo
    assert "reused" in second_out.getvalue()

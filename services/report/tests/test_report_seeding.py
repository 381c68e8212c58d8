"""The report's seeding module (the store days `make bench` times reports over) leaves the
reports exactly as the service's own intake of the same logs does."""

from __future__ import annotations

from typing import Any

from kugelpos.devstack.stack import Stack
from kugelpos.report import samples, seeding
from kugelpos.testkit.testing import assert_ok

DAY = samples.DATE
TYPES = ("sales", "category", "item", "payment", "promotion", "hourly")


def _day(tenant_id: str) -> list[dict[str, Any]]:
    logs = []
    for n in range(1, 9):
        lines = [
            samples.line(1, "4901", "C1", 1000.0, n % 3 + 1),
            samples.line(
                2, "4902", "C2", 300.0, 1, discounts=[samples.discount(50.0, "P1", "bundle")]
            ),
        ]
        total = sum(line["amount"] for line in lines)
        payments = (
            [samples.payment("01", total)]
            if n % 2
            else [samples.payment("11", total - 100), samples.payment("01", 100.0)]
        )
        logs.append(
            samples.tran(
                tenant_id,
                n,
                type_=102 if n == 5 else 101,
                with_tax=total,
                discount_total=50.0,
                quantity=sum(line["quantity"] for line in lines),
                taxes=[samples.tax("01", round(total / 11), total - round(total / 11), 1)],
                payments=payments,
                lines=lines,
                terminal=1 + n % 2,
                time=f"2026-12-01T{9 + n:02d}:15:00+09:00",
            )
        )
    return logs


# What differs between two tenants' reports of the same day: the tenant, when it was made.
APART = frozenset({"tenantId", "tenant_id", "generateDateTime", "generate_date_time"})


def _figures(data: dict[str, Any]) -> dict[str, Any]:
    # The printed texts carry the second they were made (journal_text as well as receiptText).
    return {k: v for k, v in data.items() if "text" not in k.lower() and k not in APART}


async def test_a_seeded_day_reports_as_the_services_own_intake(
    stack: Stack, book, other_book
) -> None:
    seeded_logs, taken_logs = _day(book.tenant_id), _day(other_book.tenant_id)
    await seeding.add_to_aggregates(
        mongodb_uri=stack.mongo_uri_for("report"),
        db_name_prefix=stack.db_prefix("report"),
        tenant_id=book.tenant_id,
        logs=seeded_logs[:5],
    )
    rate = await seeding.apply_logs(
        mongodb_uri=stack.mongo_uri_for("report"),
        db_name_prefix=stack.db_prefix("report"),
        secret_key=stack.secret_key,
        logs=seeded_logs[5:],
    )
    assert rate > 0
    for log in taken_logs:
        assert_ok(await other_book.post_tran(log), 201)

    # Only the applied logs went through the inbox; the merged ones are aggregates only.
    assert await book.db["processed_events"].count_documents({}) == 3
    assert await book.db["log_tran"].count_documents({}) == 3
    for report_type in TYPES:
        for terminal in (None, 1, 2):
            params = {"report_scope": "flash", "report_type": report_type, "business_date": DAY}
            seeded = await book.data("S1", terminal, **params)
            taken = await other_book.data("S1", terminal, **params)
            assert _figures(seeded) == _figures(taken), (report_type, terminal)
    sales = await book.data("S1", report_scope="flash", report_type="sales", business_date=DAY)
    assert sales["salesGross"]["count"] == 7 and sales["returns"]["count"] == 1

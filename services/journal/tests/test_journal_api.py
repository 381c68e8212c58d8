"""The journal's REST API against the embedded stack: archive entries, direct transaction
intake, search with every filter (hand-computed expectations), CSV export, receipt lookup,
and every refusal leaving the database unchanged."""

from __future__ import annotations

import csv
import io

import pytest

from kugelpos.testkit.testing import assert_error, assert_ok

STORE = "Q"


def entry(terminal: int, type_: int, date: str, receipt: int | None, time: str, text: str):
    return {
        "tenantId": None,  # filled per tenant
        "storeCode": STORE,
        "terminalNo": terminal,
        "transactionType": type_,
        "businessDate": date,
        "openCounter": 1,
        "businessCounter": 1,
        "generateDateTime": time,
        "receiptNo": receipt,
        "amount": 0.0,
        "quantity": 0,
        "staffId": "S001",
        "journalText": text,
        "receiptText": "<PrintData/>",
    }


E1 = entry(1, 101, "20261201", 0, "2026-12-01T09:00:00+09:00", "coffee (large) x1")
E2 = entry(1, 102, "20261202", 5, "2026-12-02T10:00:00+09:00", "a.b refund")
E3 = entry(2, 401, "20261203", None, "2026-12-03T11:00:00+09:00", "=SUM(A1) cash in")
E4 = entry(2, -101, "20261203", 7, "2026-12-03T12:30:00+09:00", "axb cancelled")
T5 = "2026-12-04T08:00:00+09:00"  # E5: a transaction of terminal 3, through direct intake


@pytest.fixture(scope="module")
async def seeded(book, logs):
    for body in (E1, E2, E3, E4):
        body = body | {"tenantId": book.tenant_id}
        assert_ok(await book.post_journal(STORE, body["terminalNo"], body), 201)
    tran = logs.tran(
        book.tenant_id,
        STORE,
        terminal=3,
        no=42,
        receipt_no=9,
        business_date="20261204",
        generate_date_time=T5,
        sales={"total_amount_with_tax": 2648.5, "total_quantity": 4},
    )
    assert_ok(await book.post_tran(tran), 201)
    return book


def times(items: list[dict]) -> list[str]:
    names = {
        E1["generateDateTime"]: "E1",
        E2["generateDateTime"]: "E2",
        E3["generateDateTime"]: "E3",
        E4["generateDateTime"]: "E4",
        T5: "E5",
    }
    return [names[i["generateDateTime"]] for i in items]


async def test_search_without_filters_uses_the_default_sort(seeded):
    body = assert_ok(await seeded.search(STORE))
    assert times(body["data"]) == ["E1", "E2", "E3", "E4", "E5"]
    assert body["metadata"] == {
        "total": 5,
        "page": 1,
        "limit": 100,
        "sort": "terminal_no:1, business_date:1, receipt_no:1",
        "filter": {},
    }
    item = body["data"][4]
    assert item["journalSeqNo"] == -1 and item["transactionNo"] == 42
    assert item["amount"] == 2648.5 and item["quantity"] == 4 and item["receiptNo"] == 9
    assert item["tenantId"] == seeded.tenant_id and item["transactionType"] == 101
    assert set(item) >= {"content", "journalText", "receiptText", "staffId", "userId"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"terminals": [2]}, ["E3", "E4"]),
        ({"terminals": [1, 3]}, ["E1", "E2", "E5"]),
        ({"transaction_types": [-101]}, ["E4"]),
        ({"transaction_types": [101, 102]}, ["E1", "E2", "E5"]),
        ({"business_date_from": "20261203"}, ["E3", "E4", "E5"]),
        ({"business_date_to": "20261202"}, ["E1", "E2"]),
        ({"business_date_from": "20261202", "business_date_to": "20261203"}, ["E2", "E3", "E4"]),
        ({"generate_date_time_from": "2026-12-03T12"}, ["E4", "E5"]),
        ({"generate_date_time_to": "2026-12-03"}, ["E1", "E2", "E3", "E4"]),
        (
            {
                "generate_date_time_from": "2026-12-02T10:00:00+09:00",
                "generate_date_time_to": "2026-12-03T11:00:00+09:00",
            },
            ["E2", "E3"],
        ),
        ({"receipt_no_from": 0, "receipt_no_to": 0}, ["E1"]),
        ({"receipt_no_to": 5}, ["E1", "E2"]),
        ({"receipt_no_from": 6}, ["E4", "E5"]),
        ({"keywords": ["a.b"]}, ["E2"]),  # literal: "axb" does not match
        ({"keywords": ["(large)"]}, ["E1"]),
        ({"keywords": ["a.b", "cash"]}, ["E2", "E3"]),
        ({"keywords": ["nothing like it"]}, []),
        ({"terminals": [2], "keywords": ["cancel"]}, ["E4"]),
        ({"sort": "receipt_no:-1"}, ["E5", "E4", "E2", "E1", "E3"]),
        ({"sort": "generateDateTime:-1"}, ["E5", "E4", "E3", "E2", "E1"]),
        ({"sort": "transaction_type:1,terminal_no:-1"}, ["E4", "E5", "E1", "E2", "E3"]),
    ],
)
async def test_search_filters(seeded, params, expected):
    body = assert_ok(await seeded.search(STORE, **params))
    assert times(body["data"]) == expected
    assert body["metadata"]["total"] == len(expected)


async def test_filter_echo_names_what_was_applied(seeded):
    params = {
        "terminals": [1],
        "business_date_from": "20261201",
        "receipt_no_from": 0,
        "keywords": ["a.b"],
    }
    meta = assert_ok(await seeded.search(STORE, **params))["metadata"]
    assert meta["filter"] == {
        "terminals": [1],
        "business_date": {"from": "20261201"},
        "receipt_no": {"from": 0},
        "keywords": ["a.b"],
    }


async def test_paging(seeded):
    body = assert_ok(await seeded.search(STORE, limit=2, page=2))
    assert times(body["data"]) == ["E3", "E4"]
    assert body["metadata"]["total"] == 5 and body["metadata"]["limit"] == 2
    assert assert_ok(await seeded.search(STORE, limit=2, page=9))["data"] == []
    assert assert_ok(await seeded.search("ELSEWHERE"))["data"] == []


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"sort": "journal_text:1"}, 400, "410005"),
        ({"sort": "terminal_no:2"}, 400, "410005"),
        ({"sort": "terminal_no:1,terminal_no:-1"}, 400, "410005"),
        ({"sort": "$where:1"}, 400, "410005"),
        ({"limit": 0}, 400, "410005"),
        ({"limit": 1001}, 400, "410005"),
        ({"page": 0}, 400, "410005"),
        ({"business_date_from": "2026-12-01"}, 400, "410006"),
        ({"business_date_from": "20261203", "business_date_to": "20261201"}, 400, "410006"),
        ({"generate_date_time_from": "yesterday"}, 400, "410006"),
        ({"receipt_no_from": 5, "receipt_no_to": 1}, 400, "410005"),
        ({"receipt_no_from": -1}, 400, "410005"),
        ({"terminals": [2**40]}, 400, "410005"),
        ({"keywords": [""]}, 400, "410005"),
        ({"keywords": ["x" * 101]}, 400, "410005"),
        ({"receipt_no_from": "abc"}, 422, None),
        ({"terminals": ["one"]}, 422, None),
        ({"limit": "many"}, 422, None),
        ({"business_date_to": "2" * 65}, 422, None),
        ({"format": "xml"}, 422, None),
    ],
)
async def test_bad_search_input_is_a_4xx_envelope(seeded, params, status, code):
    assert_error(await seeded.search(STORE, **params), status, code)


async def test_csv_export(seeded):
    r = await seeded.http.get(
        f"{seeded.store_path(STORE)}/journals",
        params={"format": "csv", "terminals": [2, 3], "sort": "receipt_no:-1"},
        headers=seeded.admin,
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8"))))
    assert [row["generate_date_time"] for row in rows] == [
        T5,
        E4["generateDateTime"],
        E3["generateDateTime"],
    ]
    assert rows[0]["amount"] == "2648.5" and rows[0]["transaction_no"] == "42"
    assert rows[1]["transaction_type"] == "-101" and rows[2]["receipt_no"] == ""
    assert rows[2]["journal_text"] == "'=SUM(A1) cash in"  # never a formula
    # Bad input is refused before anything streams.
    r = await seeded.http.get(
        f"{seeded.store_path(STORE)}/journals",
        params={"format": "csv", "sort": "nope:1"},
        headers=seeded.admin,
    )
    assert_error(r, 400, "410005")


async def test_receipt_for_reprint(seeded):
    url = f"{seeded.terminal_path(STORE, 2)}/receipts/7"
    data = assert_ok(await seeded.http.get(url, headers=seeded.admin))["data"]
    assert data["transactionType"] == -101 and data["journalText"] == "axb cancelled"
    zero = f"{seeded.terminal_path(STORE, 1)}/receipts/0"
    assert assert_ok(await seeded.http.get(zero, headers=seeded.admin))["data"]["receiptNo"] == 0
    r = await seeded.http.get(zero, params={"business_date": "20261201"}, headers=seeded.admin)
    assert assert_ok(r)["data"]["businessDate"] == "20261201"
    r = await seeded.http.get(zero, params={"business_date": "20261202"}, headers=seeded.admin)
    assert_error(r, 404, "410001")
    r = await seeded.http.get(f"{seeded.terminal_path(STORE, 2)}/receipts/8", headers=seeded.admin)
    assert_error(r, 404, "410001")
    r = await seeded.http.get(zero, params={"business_date": "2026"}, headers=seeded.admin)
    assert_error(r, 422)


async def test_archive_entry_is_idempotent_and_answers_snake_case(book):
    body = entry(5, 501, "20261205", 0, "2026-12-05T20:00:00+09:00", "flash report")
    body |= {"tenantId": book.tenant_id, "storeCode": "ARC"}
    first = assert_ok(await book.post_journal("ARC", 5, body), 201)
    assert first["message"] == (
        f"Transaction received successfully. tenant_id: {book.tenant_id}, "
        "store_code: ARC, terminal_no: 5"
    )
    data = first["data"]
    assert data["tenant_id"] == book.tenant_id and data["transaction_type"] == 501
    assert data["journal_text"] == "flash report" and "journalText" not in data
    again = assert_ok(await book.post_journal("ARC", 5, body), 201)
    assert again["data"] == data
    assert len(await book.entries(store_code="ARC")) == 1
    # snake_case bodies are accepted too.
    snake = {
        "tenant_id": book.tenant_id,
        "store_code": "ARC",
        "terminal_no": 5,
        "transaction_type": 502,
        "business_date": "20261205",
        "open_counter": 1,
        "business_counter": 1,
        "generate_date_time": "2026-12-05T21:00:00+09:00",
        "journal_text": "daily",
        "receipt_text": "<PrintData/>",
    }
    assert assert_ok(await book.post_journal("ARC", 5, snake), 201)["data"]["amount"] == 0
    assert len(await book.entries(store_code="ARC")) == 2


async def test_direct_intake_is_exactly_once_with_pubsub_too(book, logs, publish, acked):
    log = logs.tran(book.tenant_id, "DIR", terminal=4, no=7)
    r = await book.post_tran(log)
    body = assert_ok(r, 201)
    assert body["data"] == {
        "tenantId": book.tenant_id,
        "storeCode": "DIR",
        "terminalNo": 4,
        "transactionNo": 7,
    }
    assert body["message"].endswith("terminal_no: 4, transaction_no: 7")
    assert_ok(await book.post_tran(log), 201)
    # The same log on the topic later (its own event id): acknowledged, not journalled again.
    await publish("tranlog_report", log)
    assert (await acked(log["event_id"]))[0]["status"] == "received"
    assert len(await book.entries(store_code="DIR")) == 1
    assert await book.db["log_tran"].count_documents({"store_code": "DIR"}) == 1


async def test_refused_requests_write_nothing(book, other_book, logs):
    before = await book.snapshot()
    body = entry(1, 101, "20261201", 1, "2026-12-09T09:00:00+09:00", "x")
    body |= {"tenantId": book.tenant_id}
    tran = logs.tran(book.tenant_id, STORE, terminal=1, no=900)
    cases = [
        # Body and path disagree.
        (await book.post_journal("OTHER", 1, body), 400, "410002"),
        (await book.post_journal(STORE, 2, body), 400, "410002"),
        # Bad bodies.
        (await book.post_journal(STORE, 1, body | {"transactionType": 999}), 422, None),
        (await book.post_journal(STORE, 1, body | {"businessDate": "12-01"}), 422, None),
        (await book.post_journal(STORE, 1, {"tenantId": book.tenant_id}), 422, None),
        (
            await book.http.post(
                f"{book.terminal_path(STORE, 1)}/transactions",
                json={"tenant_id": book.tenant_id},
                headers=book.admin,
            ),
            422,
            None,
        ),
        # Another tenant's credential, no credential, a terminal writing for another.
        (await book.post_journal(STORE, 1, body, other_book.admin), 403, None),
        (await book.post_journal(STORE, 1, body, await book.till(STORE, 2)), 403, None),
        (await book.post_tran(tran, other_book.service()), 403, None),
        (await book.http.post(f"{book.terminal_path(STORE, 1)}/journals", json=body), 401, None),
    ]
    for response, status, code in cases:
        assert_error(response, status, code)
    mismatch = await book.http.post(
        f"{book.terminal_path(STORE, 1)}/transactions",
        json=tran | {"terminal_no": 2},
        headers=book.admin,
    )
    assert_error(mismatch, 400, "410105")
    assert await book.snapshot() == before


async def test_read_access(book, other_book):
    assert_error(await book.search(STORE, headers=other_book.admin), 403)
    assert_error(await book.http.get(f"{book.store_path(STORE)}/journals"), 401)
    # A terminal reads its own store only.
    assert_ok(await book.search(STORE, headers=await book.till(STORE, 9)))
    assert_error(await book.search("OTHER", headers=await book.till(STORE, 9)), 403)
    receipt = f"{book.terminal_path('OTHER', 1)}/receipts/1"
    assert_error(await book.http.get(receipt, headers=await book.till(STORE, 9)), 403)
    assert_ok(await book.search(STORE, headers=book.service()))


async def test_tenant_setup(book, other_book, http):
    again = await http.post(
        "/api/v1/tenants", json={"tenantId": book.tenant_id}, headers=book.admin
    )
    body = assert_ok(again, 201)
    assert body["data"] == {"tenantId": book.tenant_id}
    assert body["message"] == f"Creating tenant has completed: {book.tenant_id}"
    other = {"tenantId": other_book.tenant_id}
    assert_error(await http.post("/api/v1/tenants", json=other, headers=book.admin), 403)
    mine = {"tenantId": book.tenant_id}
    assert_error(await http.post("/api/v1/tenants", json=mine, headers=await book.till()), 403)
    assert_error(await http.post("/api/v1/tenants", json=mine), 401)
    names = {i["name"] for i in await (await book.db["journal"].list_indexes()).to_list()}
    assert (
        "journal_index_tenant_id_store_code_terminal_no_transaction_type_generate_date_time"
        in names
    )


async def test_tenant_setup_refuses_a_plain_user(book, http):
    """Regression (access matrix, issue 12): any user of the tenant could run set-up; it needs
    the admin or manager role (or a service token)."""
    mine = {"tenantId": book.tenant_id}
    r = await http.post("/api/v1/tenants", json=mine, headers=book.clerk)
    assert_error(r, 403, "200002")
    assert_ok(await http.post("/api/v1/tenants", json=mine, headers=book.service()), 201)

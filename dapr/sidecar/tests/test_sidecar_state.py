"""The state API against Redis: get/save/delete/bulk/transaction, ETags, first-write, TTL."""

import uuid

import pytest


@pytest.fixture(scope="module")
def sidecar(shared_stack_builder):
    stack = shared_stack_builder("state")
    yield stack.start_sidecar()
    stack.stop()


@pytest.fixture
def key():
    return f"k-{uuid.uuid4().hex}"


def save(sidecar, store, *items, **kwargs):
    return sidecar.http.post(f"/v1.0/state/{store}", json=list(items), **kwargs)


def get(sidecar, store, key):
    return sidecar.http.get(f"/v1.0/state/{store}/{key}")


def test_absent_key_is_204(sidecar, key):
    response = get(sidecar, "cartstore", key)
    assert response.status_code == 204
    assert response.content == b""


def test_save_then_get_returns_the_value_and_an_etag(sidecar, key):
    value = {"items": [{"code": "A1", "qty": 2}], "total": 12.5, "name": "カート"}
    assert save(sidecar, "cartstore", {"key": key, "value": value}).status_code == 204
    response = get(sidecar, "cartstore", key)
    assert response.status_code == 200
    assert response.json() == value
    assert response.headers["etag"] == "1"
    assert save(sidecar, "cartstore", {"key": key, "value": "v2"}).status_code == 204
    response = get(sidecar, "cartstore", key)
    assert response.json() == "v2"
    assert response.headers["etag"] == "2"


def test_keys_are_prefixed_with_the_store_name(sidecar, key, redis_client):
    save(sidecar, "terminalstore", {"key": key, "value": {"a": 1}})
    stored = redis_client.hgetall(f"terminalstore||{key}")
    assert stored[b"data"] == b'{"a":1}'
    assert stored[b"version"] == b"1"
    # Same key, other store: a different entry.
    assert get(sidecar, "statestore", key).status_code == 204


def test_several_items_in_one_save(sidecar, key):
    response = save(
        sidecar, "statestore", {"key": f"{key}-1", "value": 1}, {"key": f"{key}-2", "value": 2}
    )
    assert response.status_code == 204
    assert get(sidecar, "statestore", f"{key}-1").json() == 1
    assert get(sidecar, "statestore", f"{key}-2").json() == 2


def test_matching_etag_saves_and_a_stale_one_is_409(sidecar, key):
    save(sidecar, "cartstore", {"key": key, "value": "v1"})
    assert save(sidecar, "cartstore", {"key": key, "value": "v2", "etag": "1"}).status_code == 204
    stale = save(sidecar, "cartstore", {"key": key, "value": "v3", "etag": "1"})
    assert stale.status_code == 409
    assert stale.json()["errorCode"] == "ERR_STATE_SAVE"
    assert get(sidecar, "cartstore", key).json() == "v2"


def test_etag_on_a_missing_key_is_409(sidecar, key):
    response = save(sidecar, "cartstore", {"key": key, "value": 1, "etag": "3"})
    assert response.status_code == 409
    assert get(sidecar, "cartstore", key).status_code == 204


def test_malformed_etag_is_400(sidecar, key):
    save(sidecar, "cartstore", {"key": key, "value": "v1"})
    response = save(sidecar, "cartstore", {"key": key, "value": "v2", "etag": "not-a-version"})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_STATE_SAVE"


def test_first_write_without_etag_only_creates(sidecar, key):
    first = {"concurrency": "first-write", "consistency": "strong"}
    assert save(sidecar, "cartstore", {"key": key, "value": 1, "options": first}).status_code == 204
    again = save(sidecar, "cartstore", {"key": key, "value": 2, "options": first})
    assert again.status_code == 409
    with_etag = {"key": key, "value": 3, "etag": "1", "options": first}
    assert save(sidecar, "cartstore", with_etag).status_code == 204
    assert get(sidecar, "cartstore", key).json() == 3


def test_last_write_without_etag_overwrites(sidecar, key):
    last = {"concurrency": "last-write"}
    save(sidecar, "cartstore", {"key": key, "value": 1})
    assert save(sidecar, "cartstore", {"key": key, "value": 2, "options": last}).status_code == 204
    assert get(sidecar, "cartstore", key).json() == 2


def test_delete_with_and_without_if_match(sidecar, key):
    save(sidecar, "cartstore", {"key": key, "value": 1})
    save(sidecar, "cartstore", {"key": key, "value": 2})
    wrong = sidecar.http.delete(f"/v1.0/state/cartstore/{key}", headers={"If-Match": "1"})
    assert wrong.status_code == 409
    assert wrong.json()["errorCode"] == "ERR_STATE_DELETE"
    bad = sidecar.http.delete(f"/v1.0/state/cartstore/{key}", headers={"If-Match": "x"})
    assert bad.status_code == 400
    right = sidecar.http.delete(f"/v1.0/state/cartstore/{key}", headers={"If-Match": "2"})
    assert right.status_code == 204
    assert get(sidecar, "cartstore", key).status_code == 204
    # Deleting what is not there is fine without an ETag.
    assert sidecar.http.delete(f"/v1.0/state/cartstore/{key}").status_code == 204


def test_bulk_get(sidecar, key):
    save(
        sidecar,
        "statestore",
        {"key": f"{key}-a", "value": {"n": 1}},
        {"key": f"{key}-b", "value": "b"},
    )
    response = sidecar.http.post(
        "/v1.0/state/statestore/bulk",
        json={"keys": [f"{key}-a", f"{key}-b", f"{key}-missing"], "parallelism": 10},
    )
    assert response.status_code == 200
    by_key = {item["key"]: item for item in response.json()}
    assert by_key[f"{key}-a"] == {"key": f"{key}-a", "data": {"n": 1}, "etag": "1"}
    assert by_key[f"{key}-b"]["data"] == "b"
    assert "data" not in by_key[f"{key}-missing"]


def test_transaction_applies_every_operation(sidecar, key):
    save(sidecar, "statestore", {"key": f"{key}-old", "value": "old"})
    response = sidecar.http.post(
        "/v1.0/state/statestore/transaction",
        json={
            "operations": [
                {"operation": "upsert", "request": {"key": f"{key}-new", "value": {"x": 1}}},
                {"operation": "delete", "request": {"key": f"{key}-old", "etag": "1"}},
            ],
            "metadata": {},
        },
    )
    assert response.status_code == 204
    assert get(sidecar, "statestore", f"{key}-new").json() == {"x": 1}
    assert get(sidecar, "statestore", f"{key}-old").status_code == 204


def test_transaction_with_a_stale_etag_changes_nothing(sidecar, key):
    save(sidecar, "statestore", {"key": f"{key}-a", "value": "a"})
    save(sidecar, "statestore", {"key": f"{key}-b", "value": "b"})
    response = sidecar.http.post(
        "/v1.0/state/statestore/transaction",
        json={
            "operations": [
                {"operation": "upsert", "request": {"key": f"{key}-a", "value": "a2"}},
                {"operation": "delete", "request": {"key": f"{key}-b"}},
                {"operation": "upsert", "request": {"key": f"{key}-c", "value": "c"}},
                {"operation": "upsert", "request": {"key": f"{key}-b", "value": "b2", "etag": "7"}},
            ]
        },
    )
    assert response.status_code == 500
    assert response.json()["errorCode"] == "ERR_STATE_TRANSACTION"
    assert get(sidecar, "statestore", f"{key}-a").json() == "a"
    assert get(sidecar, "statestore", f"{key}-b").json() == "b"
    assert get(sidecar, "statestore", f"{key}-c").status_code == 204


def test_transaction_with_an_unknown_operation_is_400(sidecar, key):
    response = sidecar.http.post(
        "/v1.0/state/statestore/transaction",
        json={"operations": [{"operation": "merge", "request": {"key": key, "value": 1}}]},
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_NOT_SUPPORTED_STATE_OPERATION"


def test_ttl_in_seconds_expires_the_key(sidecar, key, redis_client, poll):
    item = {"key": key, "value": "short", "metadata": {"ttlInSeconds": "1"}}
    assert save(sidecar, "cartstore", item).status_code == 204
    assert 0 < redis_client.ttl(f"cartstore||{key}") <= 1
    assert get(sidecar, "cartstore", key).status_code == 200
    poll(lambda: get(sidecar, "cartstore", key).status_code == 204, timeout=5, what="expiry")


def test_ttl_minus_one_persists(sidecar, key, redis_client):
    save(sidecar, "cartstore", {"key": key, "value": 1, "metadata": {"ttlInSeconds": "100"}})
    save(sidecar, "cartstore", {"key": key, "value": 2, "metadata": {"ttlInSeconds": "-1"}})
    assert redis_client.ttl(f"cartstore||{key}") == -1


def test_unknown_store_is_400_err_state_store_not_found(sidecar, key):
    for response in (
        get(sidecar, "nosuchstore", key),
        save(sidecar, "nosuchstore", {"key": key, "value": 1}),
        sidecar.http.delete(f"/v1.0/state/nosuchstore/{key}"),
        sidecar.http.post("/v1.0/state/nosuchstore/bulk", json={"keys": [key]}),
        sidecar.http.post("/v1.0/state/nosuchstore/transaction", json={"operations": []}),
    ):
        assert response.status_code == 400
        assert response.json()["errorCode"] == "ERR_STATE_STORE_NOT_FOUND"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"key": "a", "value": 1}',
        b'[{"value": 1}]',
        b'[{"key": "a||b", "value": 1}]',
        b'[{"key": "a"}]',
        b'[{"key": "a", "value": 1, "metadata": {"ttlInSeconds": "soon"}}]',
    ],
)
def test_malformed_save_is_400(sidecar, body):
    response = sidecar.http.post(
        "/v1.0/state/cartstore", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "ERR_MALFORMED_REQUEST"

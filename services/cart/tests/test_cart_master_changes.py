"""A master-data change notice drops exactly the cached reads it can affect."""

from __future__ import annotations

from kugelpos.cart.master_data_client import MasterDataClient
from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.events.changes import ChangeKind, MasterChange

KEYS = [
    ("item", "T1", "S1", "4901"),
    ("item", "T1", "S2", "4901"),
    ("item", "T1", "S1", "4902"),
    ("item", "T2", "S1", "4901"),
    ("payment", "T1", "01"),
    ("parameters", "T1"),
    ("promotions", "T1", "S1"),
    ("taxes", "T1"),
]


def _client() -> MasterDataClient:
    client = MasterDataClient(
        HttpClientHelper(),
        TokenCodec("x" * 32),
        base_url_master_data="http://md",
        base_url_terminal="http://t",
    )
    for key in KEYS:
        client.cache.set(key, object())
    return client


def _left_after(change: MasterChange) -> set[tuple[str, ...]]:
    client = _client()
    client.forget(change)
    return {key for key in KEYS if key in client.cache}


def test_each_kind_drops_only_what_it_affects() -> None:
    everything = set(KEYS)
    assert everything - _left_after(MasterChange("T1", ChangeKind.ITEM, "4901")) == {
        ("item", "T1", "S1", "4901"),
        ("item", "T1", "S2", "4901"),
    }
    assert everything - _left_after(MasterChange("T1", ChangeKind.STORE_ITEM, "4901", "S2")) == {
        ("item", "T1", "S2", "4901")
    }
    assert everything - _left_after(MasterChange("T1", ChangeKind.PAYMENT, "01")) == {
        ("payment", "T1", "01")
    }
    assert everything - _left_after(MasterChange("T1", ChangeKind.PARAMETER, "X")) == {
        ("parameters", "T1")
    }
    assert everything - _left_after(MasterChange("T1", ChangeKind.PROMOTION, "P")) == {
        ("promotions", "T1", "S1")
    }
    assert _left_after(MasterChange("T1", ChangeKind.TENANT)) == {("item", "T2", "S1", "4901")}

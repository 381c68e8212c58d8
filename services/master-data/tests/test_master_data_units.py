"""Unit tests (no network): value normalization, settings resolution, exact money storage,
the tax master configuration, the cache keys."""

from __future__ import annotations

import ast
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from kugelpos.master_data.cache import MasterCache
from kugelpos.master_data.config import MasterDataSettings, TaxEntry
from kugelpos.master_data.documents import StoredDecimal, to_bson
from kugelpos.master_data.parameters.documents import ParameterDocument, ParameterValue
from kugelpos.master_data.parameters.service import normalize_value, resolve_value
from kugelpos.master_data.schemas import Money, display_time

SECRET = "unit-test-secret-key-0123456789abcdef"

# ---- settings values --------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=10,
)


@given(
    st.lists(json_values, max_size=4)
    | st.dictionaries(st.text(max_size=5), json_values, max_size=4)
)
def test_structured_values_become_canonical_json(value) -> None:
    for text in (json.dumps(value), json.dumps(value, indent=2), repr(value)):
        normalized = normalize_value(text)
        assert json.loads(normalized) == value
        assert normalize_value(normalized) == normalized  # idempotent


@given(st.text(max_size=30))
def test_normalization_never_fails_and_keeps_plain_text(text: str) -> None:
    out = normalize_value(text)
    stripped = text.strip()
    if not (stripped[:1] in "[{" and stripped[-1:] in "]}" and stripped):
        assert out == text
    else:
        assert out == text or json.loads(out) is not None or out == "null"


def test_normalization_examples() -> None:
    assert normalize_value("['Thank you', 'Come again']") == '["Thank you", "Come again"]'
    assert normalize_value("{'a': True, 'b': None}") == '{"a": true, "b": null}'
    assert normalize_value("[ありがとう]") == "[ありがとう]"  # neither JSON nor a literal
    assert normalize_value('["ありがとう"]') == '["ありがとう"]'  # UTF-8 kept
    assert normalize_value("{1, 2}") == "{1, 2}"  # a Python set has no JSON form
    assert normalize_value("  plain  ") == "  plain  "
    assert ast.literal_eval("[1]") == [1]


stores = st.sampled_from(["S1", "S2", None])
terminals = st.sampled_from([1, 2, None])


@given(
    st.lists(st.tuples(stores, terminals, st.text(max_size=3)), max_size=8),
    st.sampled_from(["S1", "S2", "S3"]),
    st.sampled_from([1, 2, 3]),
)
def test_resolution_order(entries, store: str, terminal: int) -> None:
    seen: dict = {}
    for s, t, v in entries:
        if s is None and t is not None:
            continue  # refused by the API
        seen.setdefault((s, t), v)
    doc = ParameterDocument(
        tenant_id="T",
        name="N",
        default_value="default",
        values=[ParameterValue(store_code=s, terminal_no=t, value=v) for (s, t), v in seen.items()],
    )
    expected = seen.get(
        (store, terminal), seen.get((store, None), seen.get((None, None), "default"))
    )
    assert resolve_value(doc, store, terminal) == expected


# ---- money ------------------------------------------------------------------------------------

money = TypeAdapter(Money)
stored = TypeAdapter(StoredDecimal)


@given(
    st.decimals(
        min_value=0, max_value=Decimal("999999999"), places=6, allow_nan=False, allow_infinity=False
    )
)
def test_money_is_stored_exactly(amount: Decimal) -> None:
    """Every accepted amount survives the round trip through a BSON double."""
    accepted = money.validate_python(amount)
    assert stored.validate_python(to_bson(accepted)) == accepted


@given(st.floats(min_value=0, max_value=1e11, allow_nan=False).map(lambda f: round(f, 2)))
def test_json_numbers_round_trip(value: float) -> None:
    parsed = money.validate_json(json.dumps(value))
    assert json.loads(money.dump_json(parsed)) == value


@pytest.mark.parametrize(
    "bad", [-1, -0.01, "NaN", "Infinity", "1e13", "0.0000001", "12345678901234567"]
)
def test_money_refuses(bad) -> None:
    with pytest.raises(ValidationError):
        money.validate_python(bad if not isinstance(bad, str) else Decimal(bad))


def test_display_time_is_utc_without_zone() -> None:
    from datetime import datetime, timedelta, timezone

    tokyo = datetime(2025, 1, 5, 12, 0, 0, tzinfo=timezone(timedelta(hours=9)))
    assert display_time(tokyo) == "2025-01-05 03:00:00"
    assert display_time(None) is None


# ---- tax master -------------------------------------------------------------------------------


def test_default_tax_master() -> None:
    settings = MasterDataSettings(environment="development", secret_key=SECRET)
    taxes = {t.tax_code: t for t in settings.taxes_for("ANY")}
    assert list(taxes) == ["00", "01", "02", "11", "12"]
    assert taxes["01"].rate == Decimal("10.0") and taxes["01"].round_digit == -1
    assert taxes["12"].tax_type.value == "Internal" and taxes["12"].round_method.value == "Floor"
    assert taxes["00"].round_method is None


def test_tax_master_override_per_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    own = [
        {
            "tax_code": "01",
            "tax_type": "External",
            "tax_name": "VAT 20%",
            "rate": 20,
            "round_digit": 0,
            "round_method": "Round",
        }
    ]
    monkeypatch.setenv("TAX_MASTER_BY_TENANT", json.dumps({"EU1": own}))
    settings = MasterDataSettings(environment="development", secret_key=SECRET)
    assert [t.rate for t in settings.taxes_for("EU1")] == [Decimal(20)]
    assert len(settings.taxes_for("JP1")) == 5
    monkeypatch.setenv("TAX_MASTER", json.dumps(own))
    assert MasterDataSettings(environment="development").taxes_for("X")[0].tax_name == "VAT 20%"


@pytest.mark.parametrize(
    "entry",
    [
        {
            "tax_code": "01",
            "tax_type": "External",
            "tax_name": "x",
            "rate": 101,
            "round_digit": 0,
            "round_method": "Round",
        },
        {
            "tax_code": "01",
            "tax_type": "External",
            "tax_name": "x",
            "rate": -1,
            "round_digit": 0,
            "round_method": "Round",
        },
        {"tax_code": "01", "tax_type": "External", "tax_name": "x", "rate": 5, "round_digit": 0},
        {
            "tax_code": "01",
            "tax_type": "Sales",
            "tax_name": "x",
            "rate": 5,
            "round_digit": 0,
            "round_method": "Round",
        },
        {
            "tax_code": "01",
            "tax_type": "External",
            "tax_name": "x",
            "rate": 5,
            "round_digit": 0,
            "round_method": "Ceiling",
        },
    ],
)
def test_invalid_tax_entries_are_refused(entry: dict) -> None:
    with pytest.raises(ValidationError):
        TaxEntry.model_validate(entry)


def test_duplicate_tax_codes_refused() -> None:
    entry = TaxEntry(tax_code="00", tax_type="Exempt", tax_name="x", rate=0, round_digit=0)
    with pytest.raises(ValidationError):
        MasterDataSettings(environment="development", tax_master=[entry, entry])


# ---- cache invalidation -----------------------------------------------------------------------


async def test_item_change_drops_every_store_detail_of_that_item() -> None:
    cache = MasterCache(ttl=60, max_entries=100)
    keys = [
        cache.item_key("T1", "A"),
        cache.details_key("T1", "S1", "A"),
        cache.details_key("T1", "S2", "A"),
        cache.details_key("T1", "S1", "B"),
        cache.details_key("T2", "S1", "A"),
        cache.payment_key("T1", "A"),
    ]
    for key in keys:
        cache.entries.set(key, 1)
    cache.item_changed("T1", "A")
    left = [key for key in keys if key in cache.entries]
    assert left == [keys[3], keys[4], keys[5]]
    cache.store_item_changed("T1", "S1", "B")
    assert keys[3] not in cache.entries
    cache.tenant_changed("T2")
    assert keys[4] not in cache.entries and keys[5] in cache.entries

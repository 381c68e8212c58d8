"""The subset of CEL the local sidecar evaluates in a subscription rule's `match`."""

import pytest

from kugelpos.sidecar.subscriptions import matches

EVENT = {
    "type": "com.dapr.event.sent",
    "source": "report",
    "data": {"topic": "tranlog_report", "status": "received", "count": 3, "note": None},
}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('event.data.topic == "tranlog_report"', True),
        ('event.data.topic == "cashlog_report"', False),
        ('event.data.topic != "cashlog_report"', True),
        ("event.data.count == 3", True),
        ('event.source == "report" && event.data.status == "failed"', False),
        ('event.data.topic == "cashlog_report" || event.data.topic == "tranlog_report"', True),
        ("has(event.data.topic)", True),
        ("!has(event.data.topic)", False),
        ("has(event.data.note)", True),  # present, even if null
        ("has(event.data.missing)", False),
        ("!has(event.data.missing)", True),
        ("has(event.data.topic.deeper)", False),  # a string has no fields
        ('!has(event.data.topic) || event.data.topic == "cashlog_report"', False),
        ('event.data.missing == "x"', False),
        ("size(event.data) > 1", False),  # beyond the subset: never matches
    ],
)
def test_match(expr: str, expected: bool) -> None:
    assert matches(expr, EVENT) is expected


def test_an_event_without_the_field_matches_its_absence() -> None:
    old = {"data": {"event_id": "e1", "status": "received"}}  # an ack of an older consumer
    assert matches('!has(event.data.topic) || event.data.topic == "cashlog_report"', old)

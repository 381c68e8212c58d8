"""The terminal service is in the stack and answers."""

from __future__ import annotations

from kugelpos.devstack.testing import assert_ok


async def test_world_is_set_up(world) -> None:
    r = await world.http.get(world.path, headers=world.admin)
    data = assert_ok(r)["data"]
    assert data["terminalId"] == world.terminal_id
    assert data["apiKey"] is None
    assert data["status"] == "Idle"

import datetime as dt

from storage.conversations import (
    claim_update,
    clear_state,
    get_state,
    hit_throttle,
    set_state,
)
from tests.storage_support import NOW


async def test_state_round_trip_and_expiry(session):
    await set_state(session, 1, 2, "comment", {"action_id": 5}, now=NOW)
    await set_state(session, 1, 2, "comment", {"action_id": 6}, now=NOW)
    state = await get_state(session, 1, 2, now=NOW)
    assert (state.state, state.data) == ("comment", {"action_id": 6})
    assert await get_state(session, 1, 2, now=NOW + dt.timedelta(days=3)) is None
    await set_state(session, 1, 2, "x", now=NOW)
    assert await clear_state(session, 1, 2)
    assert not await clear_state(session, 1, 2)


async def test_update_claimed_once(session):
    assert await claim_update(session, 77)
    assert not await claim_update(session, 77)


async def test_throttle_window(session):
    window = dt.timedelta(minutes=15)
    results = [
        await hit_throttle(session, "start:1", limit=3, window=window, now=NOW) for _ in range(4)
    ]
    assert results == [True, True, True, False]
    later = NOW + dt.timedelta(minutes=16)
    assert await hit_throttle(session, "start:1", limit=3, window=window, now=later)

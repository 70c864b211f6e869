"""The trade detail never shows a state whose transition is not in the database yet."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.runtime import Services
from tests.engine.conftest import set_price
from tests.engine.test_defense_actions import act, buy


async def test_a_state_change_shows_only_once_committed_with_its_transition(
    ready: Services, api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    trade, entry = await buy(ready)
    before = (await api.get(f"/dtms/trade/{trade.ticket}")).json()
    assert (before["state"], before["transitions"]) == ("HEALTHY", [])
    repository = ready.engine.repository
    save = repository.commit_records
    entered, release = asyncio.Event(), asyncio.Event()

    async def held(row: Any, actions: Any = (), transitions: Any = (), events: Any = (), **options: Any) -> Any:
        transitions = tuple(transitions)
        if transitions:  # the transaction with the transition waits until the test has looked
            entered.set()
            await release.wait()
        return await save(row, actions, transitions, events, **options)

    monkeypatch.setattr(repository, "commit_records", held)
    await set_price(ready, "EURUSD", round(entry - 0.0008, 5))
    deciding = asyncio.create_task(act(ready, trade, -2.5))
    await asyncio.wait_for(entered.wait(), 10)
    during = (await api.get(f"/dtms/trade/{trade.ticket}")).json()
    assert (during["state"], during["state_since"], during["transitions"]) == (
        before["state"],
        before["state_since"],
        [],
    )
    release.set()
    await deciding
    after = (await api.get(f"/dtms/trade/{trade.ticket}")).json()
    (transition,) = after["transitions"]
    assert after["state"] == transition["to_state"] == "WARNING_L1"
    assert after["state_since"] == transition["at"]

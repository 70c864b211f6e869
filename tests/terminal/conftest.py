"""Simulator tests: a connected SimulatedTerminal on a frozen clock, closed after the test.

A module that needs a different terminal says so once at its top, for example
``pytestmark = pytest.mark.sim(prices=HELD_EURUSD)`` or ``pytest.mark.sim(history_days=2.0)``; the marker's
keywords go to ``sim_helpers.open_terminal``, and ``on_disk=True`` keeps the broker in the test's tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.terminal.sim import SimulatedTerminal
from tests.terminal.sim_helpers import OpenSim, open_terminal


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sim(**options): how the `mt5` fixture opens its simulated terminal")


@pytest.fixture
def open_sim() -> Iterator[OpenSim]:
    """Opens terminals with ``open_terminal``'s arguments and closes every one of them after the test."""
    opened: list[SimulatedTerminal] = []

    def open_(*args: Any, **options: Any) -> SimulatedTerminal:
        terminal = open_terminal(*args, **options)
        opened.append(terminal)
        return terminal

    yield open_
    for terminal in opened:
        terminal.close()


@pytest.fixture
def mt5(request: pytest.FixtureRequest, open_sim: OpenSim) -> SimulatedTerminal:
    """A connected terminal at START with one day of history, as the module's ``sim`` marker asks."""
    marker = request.node.get_closest_marker("sim")
    options = dict(marker.kwargs) if marker is not None else {}
    if options.pop("on_disk", False):
        options["data_dir"] = request.getfixturevalue("tmp_path")
    return open_sim(**options)

"""examples/bot_example.py run as a bot would run it, against the DTMS look-alike on a real socket."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "bot_example.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bot_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DTMS_API_TOKEN", None)
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )


def test_a_buy_is_opened_as_mt5_takes_it_then_registered(fake: Any, threaded_url: str) -> None:
    run = run_example(
        "--api-url",
        threaded_url,
        "--symbol",
        "EURUSD",
        "--side",
        "BUY",
        "--volume",
        "0.1",
        "--sl-distance",
        "0.0020",
        "--tp-distance",
        "0.004",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [request] = fake.order_requests
    assert request == {
        "action": 1,
        "symbol": "EURUSD",
        "volume": 0.1,
        "type": 0,
        "price": 1.08522,
        "sl": 1.08322,
        "tp": 1.08922,
        "deviation": 20,
        "magic": 240001,
        "comment": "dtms example bot",
        "type_filling": 1,
    }
    [body] = fake.enable_bodies
    ticket = body["ticket"]
    assert fake.positions[ticket] == ("EURUSD", "BUY")  # the ticket registered is the position opened
    assert (body["direction"], body["entry"], body["stop_loss"], body["take_profit"]) == (
        "BUY",
        1.08522,
        1.08322,
        1.08922,
    )
    assert f"DTMS manages {ticket}: state HEALTHY" in run.stdout
    assert "from the SL" in run.stdout


async def test_a_sell_without_levels_gets_a_synthetic_r(
    example: ModuleType, fake: Any, live_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = example.parse_args(["--api-url", live_url, "--symbol", "XAUUSD", "--side", "sell", "--volume", "0.02"])
    assert await example.run(args) == 0
    [request] = fake.order_requests
    assert (request["type"], request["price"], request["sl"], request["tp"]) == (1, 2400.5, 0.0, 0.0)
    assert "stop_loss" not in fake.enable_bodies[0]
    assert "synthetic (no SL)" in capsys.readouterr().out


async def test_a_levels_precision_follows_the_quotes_when_digits_are_not_given(
    example: ModuleType, fake: Any, live_url: str
) -> None:
    args = example.parse_args(["--api-url", live_url, "--symbol", "XAUUSD", "--side", "sell", "--sl-distance", "5.123"])
    assert await example.run(args) == 0
    assert fake.order_requests[0]["sl"] == 2405.62


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--symbol", "NOPE"], "the simulator has no NOPE"),
        (["--wait", "0.3", "--symbol", "EURUSD"], "is not ready"),
    ],
)
async def test_failures_are_explained_with_a_nonzero_exit(
    example: ModuleType, fake: Any, live_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    fake.ready = "--wait" not in argv
    assert await example.run(example.parse_args(["--api-url", live_url, *argv])) == 1
    assert message in capsys.readouterr().out
    assert fake.enable_bodies == []

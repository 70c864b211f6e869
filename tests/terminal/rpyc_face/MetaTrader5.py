"""``MetaTrader5`` for the RPyC server the tests start: the module's functions, answered by a SimulatedTerminal.

The test server puts this directory on its path, so ``import MetaTrader5`` on the server finds this thin face
and DTMS Desk's RPyC client drives the simulator exactly as it would drive the real module. The tests reach the
simulator's own controls (``reset``, ``control``, ``set_delay``) through a second, classic connection of theirs.
Options come from the environment variable ``DTMS_FACE_OPTIONS`` (JSON) or from ``reset``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from app.terminal.protocol import TERMINAL_FUNCTIONS
from app.terminal.sim import SimulatedTerminal

__version__ = "5.0.6231"

_state: dict[str, Any] = {"terminal": None, "delay": 0.0, "ignore_login": False, "hold": None, "held": 0}


def reset(options_json: str = "{}") -> None:
    """Close the simulator and build a new one with these options (SimulatedTerminal's keywords, plus
    ``ignore_login``: initialize then keeps whatever account the terminal is on)."""
    options = json.loads(options_json)
    _state["ignore_login"] = bool(options.pop("ignore_login", False))
    _state["delay"] = float(options.pop("delay", 0.0))
    old, _state["terminal"] = _state["terminal"], None
    if old is not None:
        old.close()
    _state["terminal"] = SimulatedTerminal(**options)


def _terminal() -> SimulatedTerminal:
    if _state["terminal"] is None:
        reset(os.environ.get("DTMS_FACE_OPTIONS", "{}"))
    return _state["terminal"]


def set_delay(seconds: float) -> None:
    """Every module call waits this long first: a slow server."""
    _state["delay"] = float(seconds)


def hold_after(function: str | None, seconds: float = 0.0) -> None:
    """``function`` is carried out, then its answer waits ``seconds`` before leaving (an answer in flight)."""
    _state["hold"] = (function, float(seconds)) if function else None


def held() -> int:
    """How many answers have started waiting so far."""
    return int(_state["held"])


def control(command: str, **kwargs: Any) -> Any:
    return _terminal().control(command, **kwargs)


def _face(name: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        if _state["delay"]:
            time.sleep(_state["delay"])
        terminal = _terminal()
        if name == "initialize" and _state["ignore_login"]:
            for key in ("login", "password", "server"):
                kwargs.pop(key, None)
        answer = getattr(terminal, name)(*args, **kwargs)
        hold = _state["hold"]
        if hold is not None and hold[0] == name:
            _state["held"] += 1
            time.sleep(hold[1])
        return answer

    call.__name__ = name
    return call


for _name in TERMINAL_FUNCTIONS:
    globals()[_name] = _face(_name)

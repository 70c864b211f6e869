"""The headless run's status on stdout: one line when something changes, else one every 30 seconds.

Each line names the endpoint's address, so whoever looks at the console (or the tail of a redirected file)
knows where bots reach DTMS without scrolling back. What counts as a change: the engine's state, the managed
trades and their states, the terminal connection, the tripped rails. Prices and equity move all the time and
are only shown, never a reason for a line, so a long run's output grows by at most two lines a minute.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from app.errors import TemporaryError
from app.runtime import Services

logger = logging.getLogger(__name__)

#: seconds between two lines when nothing changes
HEARTBEAT_S = 30.0
#: seconds between two looks for a change (cheap: engine memory only, no terminal call)
CHECK_S = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusKey:
    """What must change for a line to be printed before the heartbeat is due."""

    state: str
    connected: bool
    #: the hash of every managed (ticket, state): kept between looks, so it is one number, not a tuple per trade
    #: (1.4 MB at 10,000 trades); two different sets hashing alike would only hold a line back until the heartbeat
    trades: int
    rails: tuple[str, ...]


def status_key(services: Services) -> StatusKey:
    engine = services.engine
    health = engine.health()
    return StatusKey(
        state=engine.state.value,
        connected=bool(services.gateway.connected),
        trades=hash(tuple(sorted((t.ticket, t.state.value) for t in engine.trades()))),
        rails=tuple(sorted(str(r.rail) for r in health.rails if r.tripped)),
    )


async def status_line(services: Services, address: str) -> str:
    """One line: engine, trades by state, rails, account (read through the gateway when connected), address."""
    engine = services.engine
    trades = engine.trades()
    by_state = Counter(t.state.value for t in trades)
    parts = [
        f"DTMS {engine.state.value}",
        f"{len(trades)} managed trade{'s' if len(trades) != 1 else ''}"
        + (f" ({', '.join(f'{n} {s}' for s, n in sorted(by_state.items()))})" if by_state else ""),
    ]
    rails = [str(r.rail) for r in engine.health().rails if r.tripped]
    if rails:
        parts.append(f"rails tripped: {', '.join(sorted(rails))}")
    if services.gateway.connected:
        try:
            account = await services.gateway.account_info()
        except TemporaryError as error:
            parts.append(f"account unavailable ({error})")
        else:
            parts.append(
                f"{'simulator' if services.simulated else 'account'} {account.login}: balance "
                f"{account.balance:.2f} {account.currency}, equity {account.equity:.2f}"
            )
    else:
        parts.append("terminal not connected")
    parts.append(f"bots: {address}")
    return " | ".join(parts)


async def print_status_until(
    services: Services,
    stop: asyncio.Event,
    address: Callable[[], str],
    *,
    heartbeat_s: float = HEARTBEAT_S,
    check_s: float = CHECK_S,
    write: Callable[[str], None] | None = None,
) -> int:
    """Print status lines until ``stop``; returns how many were printed. ``address()`` gives the endpoint's URL
    (known once it listens)."""
    out = write or (lambda line: print(line, flush=True))
    loop = asyncio.get_running_loop()
    last_key: StatusKey | None = None
    last_at = -heartbeat_s
    printed = 0
    while not stop.is_set():
        key = status_key(services)
        now = loop.time()
        if key != last_key or now - last_at >= heartbeat_s:
            out(await status_line(services, address()))
            printed += 1
            last_key, last_at = key, now
        try:
            await asyncio.wait_for(stop.wait(), timeout=check_s)
        except TimeoutError:
            pass
    return printed

"""Hand a trade to DTMS from a bot: one call, retried while DTMS is starting or busy, never silent.

``register_trade_with_dtms_api`` (async) and ``auto_register_dtms`` (callable from sync or async code) keep
the names and arguments bots already use.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from app.api.schemas import EnableTradeRequest, EnableTradeResponse, validation_error
from app.client.errors import error_of, is_temporary
from app.client.pool import DEFAULT_API_URL, auth_headers, close_dtms_client, endpoint, pooled_client

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[object]]

BACKOFF_FIRST = 1.0  # seconds before the first retry; doubled for each further one (1 s, 2 s, 4 s)
RETRY_AFTER_CAP = 30.0  # the longest server-requested wait (Retry-After) honoured

_kept_tasks: set[asyncio.Task[bool]] = set()


def registration_body(ticket: int, trade_data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of ``POST /dtms/trade/enable`` for a bot's trade dict.

    Takes the keys bots use (``entry`` or ``entry_price``, ``stop_loss``/``sl``, ``take_profit``/``tp``,
    ``direction`` in any case) and drops the rest. Raises ``pydantic.ValidationError`` for a bad value.
    """
    request = EnableTradeRequest.model_validate({**trade_data, "ticket": ticket})
    return request.model_dump(mode="json", exclude_none=True)


@dataclass(frozen=True, slots=True)
class _Retry:
    reason: str
    retry_after: float = 0.0


async def register_trade_with_dtms_api(
    ticket: int,
    trade_data: Mapping[str, Any],
    retry_count: int = 3,
    timeout: float = 5.0,
    api_url: str = DEFAULT_API_URL,
    *,
    token: str | None = None,
    client: httpx.AsyncClient | None = None,
    sleep: Sleep = asyncio.sleep,
) -> bool:
    """Register ``ticket`` with DTMS; True once DTMS manages it (also when it already did).

    Connection errors, timeouts, 429 and 5xx (503 while DTMS is starting) are retried up to ``retry_count``
    times after the first attempt, waiting 1 s, 2 s, 4 s, ... (longer when the server sends Retry-After).
    Any other refusal (400, 404 no such position, 409 contradicts MT5, 422 bad field) returns False at once.
    Every failure is logged with the server's reason. ``token`` defaults to ``$DTMS_API_TOKEN``; ``client``
    replaces the shared connection pool; ``sleep`` is the back-off wait.
    """
    try:
        body = registration_body(ticket, trade_data)
    except ValidationError as exc:
        logger.error("DTMS registration of ticket %s not sent: %s", ticket, validation_error(exc.errors()).detail)
        return False
    http = client if client is not None else pooled_client(api_url)
    url = endpoint(api_url, "/dtms/trade/enable")
    headers = auth_headers(token)
    attempts = max(retry_count, 0) + 1
    outcome = _Retry("not attempted")
    for attempt in range(1, attempts + 1):
        answer = await _attempt(http, url, body, headers, timeout, ticket)
        if isinstance(answer, bool):
            return answer
        outcome = answer
        if attempt < attempts:
            delay = max(BACKOFF_FIRST * 2 ** (attempt - 1), outcome.retry_after)
            logger.warning(
                "DTMS registration of ticket %s, attempt %d of %d: %s; retrying in %g s",
                ticket,
                attempt,
                attempts,
                outcome.reason,
                delay,
            )
            await sleep(delay)
    logger.error("DTMS registration of ticket %s failed after %d attempts: %s", ticket, attempts, outcome.reason)
    return False


async def _attempt(
    http: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str], timeout: float, ticket: int
) -> bool | _Retry:
    """One POST: True/False when the answer is final, a ``_Retry`` when it is worth asking again."""
    try:
        response = await http.post(url, json=body, headers=headers, timeout=timeout)
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        logger.error("DTMS registration of ticket %s not sent: bad API address %s (%s)", ticket, url, exc)
        return False
    except httpx.TransportError as exc:
        return _Retry(f"{type(exc).__name__}: {exc or 'no detail'}")
    if response.is_success:
        return _accepted(ticket, response)
    error = error_of(response)
    reason = f"HTTP {response.status_code} {error.error}: {error.detail}"
    if is_temporary(response.status_code):
        return _Retry(reason, _retry_after(response))
    field = f" (field {error.field})" if error.field else ""
    logger.error("DTMS refused ticket %s: %s%s", ticket, reason, field)
    return False


def _accepted(ticket: int, response: httpx.Response) -> bool:
    try:
        answer = EnableTradeResponse.model_validate_json(response.content)
    except ValidationError as exc:
        logger.error("DTMS answered ticket %s with an unexpected body (%s): %.300s", ticket, exc, response.text)
        return False
    if not answer.success:
        logger.error("DTMS did not take ticket %s: %.300s", ticket, response.text)
        return False
    info = answer.trade_info
    logger.info(
        "DTMS %s ticket %s (%s %s, state %s, managed by %s)",
        "already manages" if answer.already_registered else "now manages",
        ticket,
        info.direction,
        info.symbol,
        info.state,
        info.managed_by,
    )
    return True


def _retry_after(response: httpx.Response) -> float:
    """Seconds from a numeric Retry-After header (0 when absent, malformed or a date), capped."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return 0.0
    return min(seconds, RETRY_AFTER_CAP) if math.isfinite(seconds) and seconds > 0 else 0.0


def auto_register_dtms(ticket: int, trade_data: Mapping[str, Any], **kwargs: Any) -> bool | asyncio.Task[bool]:
    """Register from anywhere. Inside a running event loop: starts a named task (kept until it ends, a crash
    logged) and returns it; await it for the bool. Outside one: runs to completion and returns the bool.
    ``kwargs`` go to ``register_trade_with_dtms_api``."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_register_then_close(ticket, trade_data, kwargs))
    task = loop.create_task(register_trade_with_dtms_api(ticket, trade_data, **kwargs), name=f"dtms-register-{ticket}")
    _kept_tasks.add(task)
    task.add_done_callback(_registration_finished)
    return task


async def _register_then_close(ticket: int, trade_data: Mapping[str, Any], kwargs: dict[str, Any]) -> bool:
    # This loop ends with the call, so its pooled connections are closed before it does.
    try:
        return await register_trade_with_dtms_api(ticket, trade_data, **kwargs)
    finally:
        await close_dtms_client()


def _registration_finished(task: asyncio.Task[bool]) -> None:
    _kept_tasks.discard(task)
    if task.cancelled():
        logger.warning("%s was cancelled before DTMS answered", task.get_name())
        return
    error = task.exception()
    if error is not None:
        logger.error("%s failed", task.get_name(), exc_info=error)

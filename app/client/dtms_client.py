"""A thin typed client over the DTMS HTTP endpoint, for bots that want more than registration."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from app.api.schemas import (
    ActionsResponse,
    DisableTradeRequest,
    DisableTradeResponse,
    EnableTradeResponse,
    HealthResponse,
    StatusResponse,
    TradeDetail,
    TradeInfo,
    TradeRegistryEntry,
    TradesResponse,
)
from app.api.schemas_earlier import EngineResponse
from app.client.errors import DtmsApiError
from app.client.pool import DEFAULT_API_URL, POOL_LIMITS, auth_headers
from app.client.registration import registration_body

logger = logging.getLogger(__name__)


class DtmsClient:
    """One connection pool to DTMS; use as ``async with DtmsClient() as dtms: ...``.

    Each method is a single request (no retries; ``register_trade_with_dtms_api`` retries). An error status
    raises ``DtmsApiError`` (``.temporary`` tells whether trying later may help); a connection failure raises
    ``httpx.TransportError``. ``transport`` replaces the network (tests, in-process servers).
    """

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        *,
        token: str | None = None,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.api_url, headers=auth_headers(token), timeout=timeout, limits=POOL_LIMITS, transport=transport
        )

    async def __aenter__(self) -> DtmsClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def enable_trade(
        self, ticket: int, trade_data: Mapping[str, Any] | None = None, **fields: Any
    ) -> EnableTradeResponse:
        """Register a trade (``trade_data`` and/or keyword fields, as ``register_trade_with_dtms_api`` takes them).
        A bad value raises ``pydantic.ValidationError`` before anything is sent."""
        body = registration_body(ticket, {**(trade_data or {}), **fields})
        return EnableTradeResponse.model_validate(await self._json("POST", "/dtms/trade/enable", body))

    async def disable_trade(self, ticket: int) -> DisableTradeResponse:
        body = DisableTradeRequest(ticket=ticket).model_dump()
        return DisableTradeResponse.model_validate(await self._json("POST", "/dtms/trade/disable", body))

    async def trade(self, ticket: int) -> TradeDetail:
        return TradeDetail.model_validate(await self._json("GET", f"/dtms/trade/{ticket}"))

    async def trades(self) -> list[TradeInfo]:
        return TradesResponse.model_validate(await self._json("GET", "/dtms/trades")).trades

    async def registry(self, ticket: int) -> TradeRegistryEntry:
        """Who owns ``ticket``: ``managed_by`` is ``"dtms_manager"`` for DTMS's own trades, the bot's
        ``strategy_type`` for others, ``""`` when no one manages it."""
        return TradeRegistryEntry.model_validate(await self._json("GET", f"/trade-registry/{ticket}"))

    async def status(self) -> StatusResponse:
        """``GET /dtms/status``: lifecycle, trades by state, rails; ``dtms_status`` in the earlier server's words."""
        return StatusResponse.model_validate(await self._json("GET", "/dtms/status"))

    async def actions(self, limit: int = 100) -> ActionsResponse:
        """The ``limit`` most recent actions, newest first; ``total_actions`` counts every one recorded."""
        return ActionsResponse.model_validate(await self._json("GET", f"/dtms/actions?limit={int(limit)}"))

    async def engine(self) -> EngineResponse:
        """``GET /dtms/engine``: monitoring, trade count, last fast and deep checks."""
        return EngineResponse.model_validate(await self._json("GET", "/dtms/engine"))

    async def health(self) -> HealthResponse:
        """``GET /health``, read on 503 too: ``readiness`` and ``reason`` say why DTMS is not ready; ``status`` is
        ``healthy``, ``degraded`` (ready, but the database or the terminal has a problem) or ``unhealthy``."""
        response = await self._http.get("/health")
        if response.status_code in (200, 503):
            try:
                return HealthResponse.model_validate_json(response.content)
            except ValueError:
                pass
        raise DtmsApiError.from_response(response)

    async def wait_until_ready(self, timeout: float = 30.0, *, interval: float = 0.5) -> bool:
        """Poll ``/health`` until DTMS is healthy (True) or ``timeout`` seconds pass (False)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                health = await self.health()
            except (httpx.TransportError, DtmsApiError) as exc:
                last = str(exc) or type(exc).__name__
            else:
                if health.dtms_initialized:
                    return True
                last = f"{health.state}: {health.reason or 'no reason given'}"
            remaining = deadline - loop.time()
            if remaining <= 0:
                logger.warning("DTMS at %s not ready after %g s (%s)", self.api_url, timeout, last)
                return False
            await asyncio.sleep(min(interval, remaining))

    async def _json(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        response = await self._http.request(method, path, json=body)
        if not response.is_success:
            raise DtmsApiError.from_response(response)
        return response.json()

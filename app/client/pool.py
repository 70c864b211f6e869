"""Pooled HTTP clients for talking to DTMS, and the request headers every call carries.

One ``httpx.AsyncClient`` per API address and per event loop, created on first use and reused: an httpx
client's connections belong to the loop that opened them, so a bot that runs several loops (``asyncio.run``
per registration, one loop per thread) gets one pool in each rather than a broken shared one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

import httpx

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "http://127.0.0.1:8001"
TOKEN_ENV = "DTMS_API_TOKEN"
POOL_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5)

_lock = threading.Lock()
_clients: dict[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = {}


def auth_headers(token: str | None = None) -> dict[str, str]:
    """The bearer header for ``token``, else for ``$DTMS_API_TOKEN``; empty when neither is set."""
    token = (token if token is not None else os.environ.get(TOKEN_ENV, "")).strip()
    return {"Authorization": f"Bearer {token}"} if token else {}


def endpoint(api_url: str, path: str) -> str:
    return api_url.rstrip("/") + path


def pooled_client(api_url: str = DEFAULT_API_URL) -> httpx.AsyncClient:
    """The running loop's shared client for ``api_url`` (created on first use)."""
    loop = asyncio.get_running_loop()
    key = api_url.rstrip("/")
    with _lock:
        _forget_ended_loops()
        per_loop = _clients.setdefault(loop, {})
        client = per_loop.get(key)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(limits=POOL_LIMITS)
            per_loop[key] = client
            logger.debug("opened a DTMS connection pool for %s", key)
    return client


async def close_dtms_client() -> None:
    """Close every pooled client the running loop opened (call it before the loop ends)."""
    loop = asyncio.get_running_loop()
    with _lock:
        _forget_ended_loops()
        clients = list(_clients.pop(loop, {}).values())
    for client in clients:
        await client.aclose()


def _forget_ended_loops() -> None:
    # A loop that ended without close_dtms_client(): its clients cannot be closed any more, only dropped.
    for ended in [loop for loop in _clients if loop.is_closed()]:
        del _clients[ended]

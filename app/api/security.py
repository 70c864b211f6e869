"""Who may talk to the endpoint: programs and pages of this machine only, with the token when one is required.

A web page in the trader's browser can send requests to a loopback port, and DNS rebinding lets a remote
site give its own host name a loopback address. So every request must name a local ``Host``, any
``Origin`` must be local too, and the endpoint sends no CORS header at all: a page elsewhere can neither
read an answer nor have its request acted upon.

The bearer token is off by default on loopback and mandatory on any other address. It lives in the data
directory's ``api_token`` file (created with ``secrets`` when absent, readable by the owner only) and is
never logged; comparison is constant-time.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.schemas import ErrorCode, ErrorResponse
from app.config import ApiSettings, is_loopback
from app.errors import ConfigurationError

logger = logging.getLogger(__name__)

TOKEN_FILE = "api_token"
_LOCAL_NAMES = frozenset({"localhost", "localhost."})
_WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def load_or_create_token(data_dir: Path) -> str:
    """The token in ``data_dir/api_token``; a new random one is written there when the file is missing or empty."""
    path = data_dir / TOKEN_FILE
    try:
        if path.exists():
            token = path.read_text(encoding="utf-8").strip()
            if token:
                return token
        data_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(token + "\n")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"cannot read or write the API token file {path}: {error}") from error
    logger.info("a new API token was written to %s", path)
    return token


def host_of(value: str) -> str | None:
    """The host name of a ``Host`` header value (``name``, ``name:port``, ``[v6]:port``), lower case."""
    value = value.strip().lower()
    if not value:
        return None
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1 :]
        if end < 0 or (rest and not rest.startswith(":")):
            return None
        return value[1:end]
    if value.count(":") > 1:  # a bare IPv6 address is not a valid Host header
        return None
    return value.partition(":")[0]


def _machine_addresses() -> set[str]:
    """This machine's own names and addresses (for an endpoint bound to every interface)."""
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    for name in list(names):
        try:
            for *_, address in socket.getaddrinfo(name, None):
                names.add(str(address[0]).lower().partition("%")[0])
        except OSError:
            pass
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessPolicy:
    """Allowed host names (besides every loopback address) and the token, if one is required."""

    hosts: frozenset[str]
    token: str | None = None

    @classmethod
    def for_settings(cls, settings: ApiSettings, data_dir: Path, extra_hosts: Iterable[str] = ()) -> AccessPolicy:
        hosts = set(_LOCAL_NAMES) | {h.strip("[]").lower() for h in (*settings.allowed_hosts, *extra_hosts)}
        bound = settings.host.strip("[]").lower()
        if bound in _WILDCARDS:
            hosts |= _machine_addresses()
        else:
            hosts.add(bound)
        required = settings.require_token or not is_loopback(settings.host)
        token = load_or_create_token(data_dir) if required else None
        if token is not None:
            logger.info("the endpoint requires a bearer token (in %s)", data_dir / TOKEN_FILE)
        return cls(hosts=frozenset(hosts), token=token)

    def host_allowed(self, name: str | None) -> bool:
        if name is None:
            return False
        if name in self.hosts:
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def origin_allowed(self, origin: str) -> bool:
        try:
            parts = urlsplit(origin.strip())
            hostname = parts.hostname
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and self.host_allowed(hostname)

    def token_matches(self, authorization: str | None) -> bool:
        if self.token is None:
            return True
        if not authorization:
            return False
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credentials.strip().encode(), self.token.encode())


class LocalAccessMiddleware:
    """Refuses (403) a non-local ``Host`` or ``Origin``, then (401) a missing or wrong bearer token."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(headers)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, body, extra = refusal
        await JSONResponse(body.model_dump(mode="json"), status_code=status, headers=extra)(scope, receive, send)

    def _refusal(self, headers: Headers) -> tuple[int, ErrorResponse, dict[str, str] | None] | None:
        host = headers.get("host")
        if not self.policy.host_allowed(host_of(host or "")):
            return (
                403,
                ErrorResponse(error=ErrorCode.FORBIDDEN, detail="requests must name a local Host", field="Host"),
                None,
            )
        origin = headers.get("origin")
        if origin is not None and not self.policy.origin_allowed(origin):
            return (
                403,
                ErrorResponse(
                    error=ErrorCode.FORBIDDEN, detail="requests from other sites are refused", field="Origin"
                ),
                None,
            )
        if not self.policy.token_matches(headers.get("authorization")):
            return (
                401,
                ErrorResponse(
                    error=ErrorCode.UNAUTHORIZED, detail="a valid bearer token is required", field="Authorization"
                ),
                {"WWW-Authenticate": "Bearer"},
            )
        return None

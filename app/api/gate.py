"""Request bodies are JSON and small: checked before any handler reads them.

A body must be ``application/json`` (else 415) and at most ``max_bytes`` long (else 413, decided from
``Content-Length`` at once, or while reading a chunked body). The body is read here and handed on
unchanged, so a handler never sees a partial or oversized body.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.schemas import ErrorCode, ErrorResponse

_JSON = "application/json"


def _answer(status: int, code: ErrorCode, detail: str, field: str | None = None) -> JSONResponse:
    body = ErrorResponse(error=code, detail=detail, field=field)
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


class BodyGate:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length_header = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        try:
            length = int(length_header) if length_header is not None else None
        except ValueError:
            await _answer(400, ErrorCode.MALFORMED_JSON, "Content-Length is not a number", "Content-Length")(
                scope, receive, send
            )
            return
        if not chunked and not length:
            await self.app(scope, receive, send)  # no body at all
            return
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != _JSON:
            await _answer(
                415,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                f"request bodies must be {_JSON}, not {media_type or 'untyped'}",
                "Content-Type",
            )(scope, receive, send)
            return
        if length is not None and length > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _answer(413, ErrorCode.PAYLOAD_TOO_LARGE, f"request bodies are limited to {self.max_bytes} bytes")(
            scope, receive, send
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that first gives the buffered body, then whatever the connection says next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay

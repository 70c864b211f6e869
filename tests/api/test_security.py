"""Only this machine may use the endpoint: local Host and Origin, no CORS, the bearer token when required."""

from __future__ import annotations

import logging
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI

from app.api.security import TOKEN_FILE, host_of, load_or_create_token
from app.errors import ConfigurationError
from app.runtime import Services
from tests.api.conftest import client_for


@pytest.mark.parametrize(
    ("header", "host"),
    [
        ("localhost", "localhost"),
        ("LOCALHOST:8001", "localhost"),
        ("127.0.0.1:8001", "127.0.0.1"),
        ("[::1]:8001", "::1"),
        ("[::1]", "::1"),
        ("evil.example:80", "evil.example"),
        ("", None),
        ("[::1", None),
        ("[::1]x", None),
        ("::1", None),
    ],
)
def test_host_header_parsing(header: str, host: str | None) -> None:
    assert host_of(header) == host


@pytest.mark.parametrize("host", ["localhost", "localhost:8001", "127.0.0.1:8001", "127.4.5.6", "[::1]:8001"])
async def test_local_hosts_are_served(idle: Services, make_app: Callable[..., FastAPI], host: str) -> None:
    async with client_for(make_app(idle)) as client:
        response = await client.get("/dtms/status", headers={"Host": host})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8001", "192.168.1.10:8001", "localhost.evil.example", "[::2]:8001", "10.0.0.1"],
)
async def test_a_foreign_host_is_refused_like_a_rebinding_attack(
    idle: Services, make_app: Callable[..., FastAPI], host: str
) -> None:
    async with client_for(make_app(idle)) as client:
        for method, path, body in (("GET", "/dtms/status", None), ("POST", "/dtms/trade/enable", {"ticket": 1})):
            response = await client.request(method, path, json=body, headers={"Host": host})
            assert response.status_code == 403
            assert response.json() == {
                "error": "forbidden",
                "detail": "requests must name a local Host",
                "field": "Host",
            }


async def test_the_bound_address_is_a_local_host(idle: Services, make_app: Callable[..., FastAPI]) -> None:
    app = make_app(idle, host="192.168.1.10")
    token = (idle.data_dir / TOKEN_FILE).read_text().strip()
    async with client_for(app, headers={"Authorization": f"Bearer {token}"}) as client:
        assert (await client.get("/dtms/status", headers={"Host": "192.168.1.10:8001"})).status_code == 200
        assert (await client.get("/dtms/status", headers={"Host": "192.168.1.11:8001"})).status_code == 403


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "https://evil.example:8001",
        "null",
        "file://",
        "http://localhost.evil.example",
        "chrome-extension://abc",
        "not a url",
    ],
)
async def test_a_page_from_another_site_is_refused(
    idle: Services, make_app: Callable[..., FastAPI], origin: str
) -> None:
    async with client_for(make_app(idle)) as client:
        response = await client.post(
            "/dtms/trade/enable", json={"ticket": 1, "symbol": "EURUSD", "direction": "BUY"}, headers={"Origin": origin}
        )
    assert response.status_code == 403
    assert response.json()["field"] == "Origin"


@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:8001", "http://[::1]:8001"])
async def test_local_pages_are_served_without_any_cors_header(
    idle: Services, make_app: Callable[..., FastAPI], origin: str
) -> None:
    async with client_for(make_app(idle)) as client:
        response = await client.get("/dtms/status", headers={"Origin": origin})
        preflight = await client.options(
            "/dtms/trade/enable",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
    assert response.status_code == 200
    for answer in (response, preflight):
        assert not [name for name in answer.headers if name.lower().startswith("access-control-")]
    assert preflight.status_code == 405


async def test_no_token_is_needed_on_loopback_by_default(idle: Services, make_app: Callable[..., FastAPI]) -> None:
    async with client_for(make_app(idle)) as client:
        assert (await client.get("/dtms/status")).status_code == 200
    assert not (idle.data_dir / TOKEN_FILE).exists()


async def test_a_required_token_is_created_checked_and_never_logged(
    idle: Services, make_app: Callable[..., FastAPI], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = make_app(idle, require_token=True)
    path = idle.data_dir / TOKEN_FILE
    token = path.read_text().strip()
    assert len(token) >= 32
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    async with client_for(app) as client:
        missing = await client.get("/dtms/status")
        wrong = await client.get("/dtms/status", headers={"Authorization": f"Bearer {token[:-1]}x"})
        basic = await client.get("/dtms/status", headers={"Authorization": f"Basic {token}"})
        right = await client.get("/dtms/status", headers={"Authorization": f"Bearer {token}"})
        lower = await client.get("/dtms/status", headers={"Authorization": f"bearer {token}"})
    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert refused.json()["error"] == "unauthorized"
    assert right.status_code == 200 and lower.status_code == 200
    assert token not in caplog.text
    assert str(path) in caplog.text  # where to find it is logged, the token itself is not


async def test_the_token_is_mandatory_off_loopback_and_kept_across_starts(
    idle: Services, make_app: Callable[..., FastAPI]
) -> None:
    first = make_app(idle, host="0.0.0.0")
    token = (idle.data_dir / TOKEN_FILE).read_text().strip()
    second = make_app(idle, host="0.0.0.0")
    async with client_for(first) as one, client_for(second) as two:
        assert (await one.get("/dtms/status")).status_code == 401
        assert (await two.get("/dtms/status", headers={"Authorization": f"Bearer {token}"})).status_code == 200


def test_an_empty_token_file_gets_a_new_token(tmp_path: Path) -> None:
    (tmp_path / TOKEN_FILE).write_text("\n")
    token = load_or_create_token(tmp_path)
    assert token and load_or_create_token(tmp_path) == token


def test_an_unwritable_token_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / TOKEN_FILE).mkdir()  # a directory where the file should be
    with pytest.raises(ConfigurationError, match="API token file"):
        load_or_create_token(tmp_path)

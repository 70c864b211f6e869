"""Retcode classification against the reference tables of the MetaTrader5 module."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from app.terminal import constants
from app.terminal.retcodes import (
    CONNECTION_LOST_CODES,
    IPC_ERROR_CODES,
    RetcodeClass,
    RetryHint,
    classify,
    describe,
    retry_hint,
)

FACTS = json.loads(resources.files("tests.data").joinpath("mt5_api_facts.json").read_text(encoding="utf-8"))


def _table(name: str) -> list[tuple[str, int]]:
    return sorted(FACTS[name].items())


@pytest.mark.parametrize(("name", "code"), _table("retcodes_success"))
def test_success_codes(name: str, code: int) -> None:
    assert classify(code) is RetcodeClass.SUCCESS, name
    assert retry_hint(code) is RetryHint.NONE


@pytest.mark.parametrize(("name", "code"), _table("retcodes_transient"))
def test_transient_codes(name: str, code: int) -> None:
    expected = RetcodeClass.UNKNOWN_OUTCOME if code == 10012 else RetcodeClass.TRANSIENT
    assert classify(code) is expected, name
    assert retry_hint(code) is not RetryHint.NONE


@pytest.mark.parametrize(("name", "code"), _table("retcodes_permanent"))
def test_permanent_codes(name: str, code: int) -> None:
    assert classify(code) is RetcodeClass.PERMANENT, name
    assert retry_hint(code) is RetryHint.NONE


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (10004, RetryHint.REFRESH_PRICE),
        (10020, RetryHint.REFRESH_PRICE),
        (10021, RetryHint.REFRESH_PRICE),
        (10024, RetryHint.BACK_OFF),
        (10031, RetryHint.BACK_OFF),
        (10028, RetryHint.REREAD_STATE),
        (10023, RetryHint.REREAD_STATE),
        (10029, RetryHint.WAIT_PRICE_AWAY),
        (10012, RetryHint.CHECK_OUTCOME),
    ],
)
def test_retry_hints(code: int, hint: RetryHint) -> None:
    assert retry_hint(code) is hint


@pytest.mark.parametrize("code", [0, 1, 10005, 10037, 10047, 99999, -10004])
def test_undocumented_codes_are_permanent(code: int) -> None:
    assert classify(code) is RetcodeClass.PERMANENT
    assert retry_hint(code) is RetryHint.NONE
    assert describe(code) == f"unknown retcode {code}"


def test_every_code_has_the_reference_meaning() -> None:
    for code, meaning in FACTS["retcode_meanings"].items():
        # The reference notes that 10046 has no Python constant; the meaning itself is the same.
        assert describe(int(code)) == meaning.split(" - ")[0]


def test_tables_name_the_module_constants() -> None:
    for table in ("retcodes_success", "retcodes_transient", "retcodes_permanent"):
        for name, code in FACTS[table].items():
            assert getattr(constants, name) == code


def test_ipc_codes_are_the_module_ipc_family() -> None:
    family = {v["code"] for v in FACTS["last_error_codes"].values() if v["code"] <= -10000}
    assert IPC_ERROR_CODES == family
    assert {-10004, -10005} <= CONNECTION_LOST_CODES <= IPC_ERROR_CODES

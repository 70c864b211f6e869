"""docs/settings.md is generated from the settings code: the committed file must be what the code gives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from app.config import AppSettings, settings_from_dict
from app.settings_doc import entries, render

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def keys(value: object, prefix: str = "") -> set[str]:
    found: set[str] = set()
    for field in dataclasses.fields(value):
        inner = getattr(value, field.name)
        found |= keys(inner, f"{prefix}{field.name}.") if dataclasses.is_dataclass(inner) else {prefix + field.name}
    return found


def test_the_committed_reference_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m app.settings_doc > docs/settings.md"


def test_every_key_is_listed_with_a_meaning_and_a_default_the_file_accepts() -> None:
    listed = list(entries())
    assert {e.key for e in listed} == keys(AppSettings())
    assert all(e.meaning.strip() for e in listed)
    by_key = {e.key: e for e in listed}
    assert by_key["engine.adoption.policy"].default == "none"
    assert by_key["engine.cycle.fast_interval_s"].unit == "seconds"
    # a file made of the documented defaults is a valid settings file giving the defaults
    data: dict[str, object] = {}
    for entry in listed:
        *tables, name = entry.key.split(".")
        table = data
        for part in tables:
            table = table.setdefault(part, {})  # type: ignore[assignment]
        table[name] = entry.default
    assert settings_from_dict(data) == AppSettings()

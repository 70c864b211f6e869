"""The layer rules of DESIGN.md, checked on what a fresh interpreter actually imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_engine_store_and_terminal_never_import_qt() -> None:
    modules = imported_after(
        "import app.engine.engine, app.engine.cycle, app.store.repository, app.terminal.gateway, app.runtime"
    )
    qt = sorted(m for m in modules if m.startswith(("PySide6", "qasync", "shiboken6", "app.views")))
    assert qt == []


def test_metatrader5_is_imported_only_inside_the_terminal_package() -> None:
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        if "terminal" in path.relative_to(ROOT / "app").parts[:1]:
            continue
        text = path.read_text(encoding="utf-8")
        if "import MetaTrader5" in text or "from MetaTrader5" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []

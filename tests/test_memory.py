"""The allocator settings that keep the main process's memory level: large blocks stay mapped on their own."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import memory


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def _mapped_bytes(libc: ctypes.CDLL) -> int:
    return int(libc.mallinfo2().hblkhd)


def check_large_blocks_are_mapped() -> None:
    """Run in a fresh interpreter (``python -m tests.test_memory``): a heap that other work left with large free
    chunks serves a block from them whatever the threshold, so the check needs a process of its own."""
    libc = memory._libc()
    assert libc is not None
    libc.mallinfo2.restype = _MallInfo2
    assert memory.limit_arenas()
    size = 4 * 1024 * 1024
    for _ in range(3):  # unfixed, glibc would serve the second block from the heap (and keep the heap grown)
        before = _mapped_bytes(libc)
        block = ctypes.create_string_buffer(size)
        assert _mapped_bytes(libc) >= before + size
        del block
        assert _mapped_bytes(libc) <= before  # given back to the system at once


def test_a_large_block_is_mapped_again_after_one_was_freed() -> None:
    libc = memory._libc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        pytest.skip("glibc only")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "tests.test_memory"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


if __name__ == "__main__":
    check_large_blocks_are_mapped()


def test_the_c_library_is_found_once_not_at_every_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding it runs ``ldconfig -p`` in a new process; the heap is trimmed every two minutes for months."""
    looked: list[str] = []
    found = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        looked.append(name)
        return found(name)

    monkeypatch.setattr(ctypes.util, "find_library", find_library)
    memory._libc.cache_clear()
    try:
        for _ in range(3):
            memory.trim()
            memory.limit_arenas()
    finally:
        memory._libc.cache_clear()
    assert len(looked) <= 1

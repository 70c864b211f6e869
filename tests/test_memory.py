"""The allocator settings that keep the main process's memory level: large blocks stay mapped on their own."""

from __future__ import annotations

import ctypes

import pytest

from app import memory


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def _mapped_bytes(libc: ctypes.CDLL) -> int:
    return int(libc.mallinfo2().hblkhd)


def test_a_large_block_is_mapped_again_after_one_was_freed() -> None:
    libc = memory._libc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        pytest.skip("glibc only")
    libc.mallinfo2.restype = _MallInfo2
    assert memory.limit_arenas()
    # a block is served from a free chunk of the heap when one is large enough, whatever the threshold: the
    # block asked for is larger than all the heap holds free (below glibc's own 32 MiB ceiling, past which even
    # an unfixed glibc maps a block on its own)
    memory.trim()
    size = max(4 * 1024 * 1024, int(libc.mallinfo2().fordblks) + 1024 * 1024)
    if size > 30 * 1024 * 1024:
        pytest.skip("the heap holds too much free memory in this process to tell")
    for _ in range(3):  # unfixed, glibc would serve the second block from the heap (and keep the heap grown)
        before = _mapped_bytes(libc)
        block = ctypes.create_string_buffer(size)
        assert _mapped_bytes(libc) >= before + size
        del block
        assert _mapped_bytes(libc) <= before  # given back to the system at once

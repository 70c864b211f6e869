"""The write breakdown's model of the kernel's accounting: a page counts when it turns dirty, again only once
it was written back (30 s after its file turned dirty, or at fsync); a commit's WAL frames also dirty the WAL
index; writes of child processes are not the desk's."""

from __future__ import annotations

from pathlib import Path

from bench.write_breakdown import FRAME_HEADER, PAGE, Snapshot, account, frames_of, parse

WAL = "/data/dtms.sqlite3-wal"
LOG = "/data/dtms-desk.log"


def frame_header(page: int, commit: bool) -> str:
    raw = page.to_bytes(4, "big") + (7 if commit else 0).to_bytes(4, "big") + bytes(16)
    return "".join(f"\\x{b:02x}" for b in raw)


def test_pages_count_when_they_turn_dirty_and_children_are_left_out(tmp_path: Path) -> None:
    frame = 32
    lines = [
        f'100 10:00:00.000000 pwrite64(9, "{frame_header(5, False)}", 24, {frame}) = 24',
        f'100 10:00:00.000100 pwrite64(9, "\\x00", 1024, {frame + FRAME_HEADER}) = 1024',
        f'100 10:00:00.000200 pwrite64(9, "{frame_header(9, True)}", 24, {frame + 1048}) = 24',
        f'100 10:00:00.000300 pwrite64(9, "\\x00", 1024, {frame + 1048 + FRAME_HEADER}) = 1024',
        '101 10:00:01.000000 write(6, "\\x61", 40) = 40',
        '101 10:00:10.000000 write(6, "\\x62", 40) = 40',  # the same page, still dirty: not counted again
        '101 10:01:00.000000 write(6, "\\x63", 40) = 40',  # written back meanwhile: counted again
        "100 10:01:01.000000 fsync(6) = 0",
        '101 10:01:02.000000 write(6, "\\x64", 40) = 40',  # clean after the fsync: counted again
        '555 10:01:03.000000 write(6, "\\x65", 4000) = 4000',  # a child's (told by SIGCHLD below)
        "100 10:01:04.000000 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=555} ---",
    ]
    (tmp_path / "trace.txt").write_text("\n".join(lines) + "\n")
    start = Snapshot(files={"9": WAL, "6": LOG}, positions={"9": 0, "6": None}, sizes={WAL: 32, LOG: 100}, written=0)
    writes, hours = parse(tmp_path / "trace.txt", start)
    assert hours == 62 / 3600 and len(writes) == 9, "the child's write is not the desk's"
    assert frames_of(writes) == [(5, False), (9, True)]
    counted = account(writes, start["sizes"])
    assert counted["log"] == 3 * PAGE
    assert counted["WAL"] == 1 * PAGE, "both frames (2,096 bytes from offset 32) on the WAL's first page"
    # the index: its header and the two frames' page numbers on page 0, their hash slots on pages 4 to 7
    hashed = {(16384 + ((page * 383) & 8191) * 2) // PAGE for page in (5, 9)}
    assert counted["WAL index (-shm)"] == (1 + len(hashed)) * PAGE

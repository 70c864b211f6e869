"""Where a running desk's disk writes go, file by file (Linux, strace).

Traces the process's writes for a while and replays them through the kernel's accounting: a 4 KiB page counts
as written when it turns dirty, and a file's dirty pages are written back (clean again) 30 s after the file
first turned dirty, or at its fsync. The WAL index (``-shm``) is written through a memory map that no trace
sees: its pages are worked out from the frames each commit appends (SQLite's layout: a header page, then the
frames' page numbers and their hash slots). Prints the rate per hour of each file, the kernel's own count for
the whole process over the same time (``/proc/PID/io``, to check the model against), the commits and the WAL
frames each one appends, and those frames by table or index (SQLite's ``dbstat``).

    .venv/bin/python bench/bench_longrun.py --sim-speed 1 --seconds 3000 --warmup 600 &
    .venv/bin/python bench/write_breakdown.py --pid PID --seconds 1800 --keep /tmp/trace

Needs strace and the right to trace the process (root, or ``ptrace_scope`` 0). ``--replay DIR`` reads a trace
kept with ``--keep`` again (``--db`` names a copy of the database when the traced one is gone). Writes of child
processes are left out. The model takes every page as clean when the trace starts, so trace for many minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

PAGE = 4096
#: the kernel writes a file's dirty pages back once the file has been dirty this long (dirty_expire_centisecs)
EXPIRE_S = 30.0
#: how often the flusher looks (dirty_writeback_centisecs)
FLUSH_EVERY_S = 5.0
WAL_HEADER, FRAME_HEADER = 32, 24
#: the WAL index's first block: a 136-byte header and 4,062 page numbers, then 8,192 two-byte hash slots
INDEX_FIRST_FRAMES, INDEX_BLOCK, INDEX_HASH_AT, HASH_SLOTS = 4062, 32768, 16384, 8192
_LINE = re.compile(r"^(\d+)\s+(\d\d):(\d\d):(\d\d\.\d+)\s+(\w+)\((.*)\)\s+=\s+(-?\d+)")
_TEXT = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
_CHILD = re.compile(r"si_pid=(\d+)")


class Snapshot(TypedDict):
    files: dict[str, str]  # descriptor -> path
    positions: dict[str, int | None]  # descriptor -> offset (None: opened to append)
    sizes: dict[str, int]
    written: int  # the process's write_bytes


@dataclass(frozen=True, slots=True)
class Write:
    at: float
    path: str
    offset: int | None  # None: appended at the end
    size: int
    head: bytes  # the first bytes written (a WAL frame's header)
    sync: bool = False


def kind(path: str) -> str:
    for suffix, name in (("-wal", "WAL"), ("-shm", "WAL index (-shm)"), (".journal", "side journal")):
        if path.endswith(suffix):
            return name
    if path.endswith(".log") or ".log." in path:
        return "log"
    return "database file" if path.endswith(".sqlite3") else path


def snapshot(pid: int) -> Snapshot:
    """The process's open files (descriptor, path, position or append) and their sizes, and its bytes written."""
    files: dict[str, str] = {}
    positions: dict[str, int | None] = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text().splitlines()
        except OSError:
            continue
        if target.startswith("/"):
            files[fd] = target
            flags = int(info[1].split()[1], 8)
            positions[fd] = None if flags & os.O_APPEND else int(info[0].split()[1])
    sizes = {path: os.path.getsize(path) for path in files.values() if os.path.isfile(path)}
    return Snapshot(files=files, positions=positions, sizes=sizes, written=_written(pid))


def _written(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def _text(raw: str) -> bytes:
    found = _TEXT.search(raw)
    return bytes.fromhex(found.group(1).replace("\\x", "")) if found else b""


def parse(trace: Path, start: Snapshot) -> tuple[list[Write], float]:
    """The writes to regular files, in order, and the hours the trace spans."""
    files = {int(fd): path for fd, path in start["files"].items()}
    positions = {int(fd): at for fd, at in start["positions"].items()}
    writes: list[Write] = []
    first = last = None
    lines = trace.read_text(errors="replace").splitlines()
    children = set(_CHILD.findall("\n".join(line for line in lines if "SIGCHLD" in line)))  # not the desk's
    for line in lines:
        found = _LINE.match(line)
        if found is None or found.group(1) in children:
            continue
        _pid, hours, minutes, seconds, call, args, result = found.groups()
        at = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
        first = at if first is None else first
        last = at
        answer = int(result)
        if answer < 0:
            continue
        if call == "openat":
            files[answer] = _text(args).decode(errors="replace")
            positions[answer] = None if "O_APPEND" in args else 0
            continue
        fd = int(args.split(",", 1)[0])
        if call == "close":
            files.pop(fd, None)
            continue
        path = files.get(fd, "")
        if not path.startswith("/") or path.startswith(("/dev/", "/proc/")):
            continue
        if call == "pwrite64":
            writes.append(Write(at, path, int(args.rsplit(",", 1)[1]), answer, _text(args)))
        elif call in ("write", "writev"):
            at_offset = positions.get(fd)
            writes.append(Write(at, path, at_offset, answer, b""))
            if at_offset is not None:
                positions[fd] = at_offset + answer
        elif call in ("fsync", "fdatasync"):
            writes.append(Write(at, path, 0, 0, b"", sync=True))
    span = (last - first) / 3600 if first is not None and last is not None else 0.0
    return writes, span


def account(writes: list[Write], sizes: dict[str, int]) -> Counter[str]:
    """Bytes counted per kind of file, as the kernel counts them."""
    dirty: defaultdict[str, set[int]] = defaultdict(set)
    dirty_since: dict[str, float] = {}
    counted: Counter[str] = Counter()
    ends = dict(sizes)
    next_flush = writes[0].at if writes else 0.0

    def touch(path: str, start: int, end: int, at: float) -> None:
        if not dirty[path]:
            dirty_since[path] = at
        for page in range(start // PAGE, (end - 1) // PAGE + 1):
            if page not in dirty[path]:
                dirty[path].add(page)
                counted[kind(path)] += PAGE

    index_pages: list[tuple[int, int]] = []  # (frame number, page number) of the commit being appended
    size = 1024  # the database's page size, learnt from the WAL's page writes
    for write in writes:
        while write.at >= next_flush:
            for path, pages in dirty.items():
                if pages and next_flush - dirty_since[path] >= EXPIRE_S:
                    pages.clear()
            next_flush += FLUSH_EVERY_S
        if write.sync:
            dirty[write.path].clear()
            continue
        start = ends.get(write.path, 0) if write.offset is None else write.offset
        if write.size:
            touch(write.path, start, start + write.size, write.at)
            ends[write.path] = max(ends.get(write.path, 0), start + write.size)
        if kind(write.path) != "WAL" or write.offset is None or write.offset < WAL_HEADER:
            continue
        if write.size != FRAME_HEADER:
            size = write.size
            continue
        number = (start - WAL_HEADER) // (FRAME_HEADER + size)
        page = int.from_bytes(write.head[:4], "big")
        index_pages.append((number, page))
        if write.head[4:8].strip(b"\0"):  # the commit's last frame: the index is written for all its frames
            shm = write.path[: -len("-wal")] + "-shm"
            touch(shm, 0, 136, write.at)
            for frame, page_number in index_pages:
                block = 0 if frame < INDEX_FIRST_FRAMES else 1 + (frame - INDEX_FIRST_FRAMES) // 4096
                slot = frame if block == 0 else (frame - INDEX_FIRST_FRAMES) % 4096
                base = block * INDEX_BLOCK
                entry = base + (136 + 4 * slot if block == 0 else 4 * slot)
                touch(shm, entry, entry + 4, write.at)
                hashed = base + INDEX_HASH_AT + ((page_number * 383) & (HASH_SLOTS - 1)) * 2
                touch(shm, hashed, hashed + 2, write.at)
            index_pages.clear()
    return counted


def tables(database: Path, pages: list[int]) -> Counter[str]:
    """The WAL frames by the table or index their page belongs to (pointer-map and free pages: "other")."""
    try:
        with sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True) as db:
            owner = dict(db.execute("SELECT pageno, name FROM dbstat"))
    except sqlite3.Error as error:
        print(f"no page owners ({error})")
        return Counter()
    return Counter(owner.get(page, "other (pointer map, free list)") for page in pages)


def report(writes: list[Write], hours: float, start: Snapshot, end: Snapshot, db: Path | None) -> None:
    counted = account(writes, start["sizes"])
    total = sum(counted.values())
    print(f"{len(writes)} writes to files over {hours * 60:.1f} min")
    print(f"model: {total / 1e6 / hours:.2f} MB/h")
    for name, value in counted.most_common():
        print(f"  {name:<40} {value / 1e6 / hours:6.2f} MB/h  {100 * value / total:4.0f} %")
    kernel = end["written"] - start["written"]
    print(f"kernel (/proc/PID/io write_bytes, the whole process): {kernel / 1e6 / hours:.2f} MB/h")
    appended = frames_of(writes)
    commits = sum(1 for f in appended if f[1])
    if commits:
        per_commit = len(appended) / commits
        print(f"commits {commits / hours:.0f}/h, WAL frames {len(appended) / hours:.0f}/h, {per_commit:.1f} a commit")
    if db is not None and appended:
        for name, count in tables(db, [page for page, _ in appended]).most_common():
            print(f"  {name:<40} {count / hours:6.0f} frames/h  {100 * count / len(appended):4.0f} %")


def frames_of(writes: list[Write]) -> list[tuple[int, bool]]:
    """(page number, ends a commit) of each WAL frame appended."""
    return [
        (int.from_bytes(w.head[:4], "big"), bool(w.head[4:8].strip(b"\0")))
        for w in writes
        if kind(w.path) == "WAL" and w.size == FRAME_HEADER and len(w.head) >= 8
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pid", type=int)
    parser.add_argument("--seconds", type=float, default=1800.0)
    parser.add_argument("--keep", type=Path, help="folder to keep the trace and the snapshots in")
    parser.add_argument("--replay", type=Path, help="a folder written with --keep")
    parser.add_argument("--db", type=Path, help="the database whose pages name the WAL's frames")
    args = parser.parse_args()
    folder = args.replay or args.keep
    if args.replay is None:
        if args.pid is None or folder is None:
            parser.error("--pid and --keep, or --replay")
        folder.mkdir(parents=True, exist_ok=True)
        start = snapshot(args.pid)
        subprocess.run(
            [
                "timeout",
                str(args.seconds),
                "strace",
                "-f",
                "-tt",
                "-s",
                "24",
                "-xx",
                "-o",
                str(folder / "trace.txt"),
                "-e",
                "trace=openat,close,write,pwrite64,writev,fsync,fdatasync",
                "-p",
                str(args.pid),
            ],
            check=False,
        )
        end = snapshot(args.pid)
        (folder / "snapshots.json").write_text(json.dumps({"start": start, "end": end}))
    snapshots = json.loads((folder / "snapshots.json").read_text())
    writes, hours = parse(folder / "trace.txt", snapshots["start"])
    database = args.db or next((Path(p) for p in snapshots["start"]["files"].values() if p.endswith(".sqlite3")), None)
    if not writes or not hours:
        sys.exit("no writes traced")
    report(writes, hours, snapshots["start"], snapshots["end"], database)


if __name__ == "__main__":
    main()

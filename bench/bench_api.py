"""HTTP endpoint latency and throughput while DTMS manages 1,000 trades, measured from a separate process.

    .venv/bin/python bench/bench_api.py [--trades 1000] [--requests 2000]

Starts ``main.py --headless`` on the simulator (real time, monitoring loop on, terminal in its worker
process) on a temporary data directory, opens ``--trades`` positions through ``/sim/order_send`` and
registers each with ``POST /dtms/trade/enable``. Then, from this process, it measures ``GET /dtms/health``
and ``POST /dtms/trade/enable`` (of an already managed ticket: the idempotent answer bots get on retries)
at 1 and 50 concurrent keep-alive clients, beside ``GET /ping`` (the endpoint's minimal route) in the same
run, so the difference is what the DTMS routes cost. The client is raw asyncio streams with Nagle off,
so little of the figures is the client's own cost; both processes share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LISTENING = re.compile(rb"listening on http://([\d.]+):(\d+)")
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD", "BTCUSD")


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    route: str
    clients: int
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    statuses: str


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader = reader
        self._writer = writer
        self._host = host

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, f"{host}:{port}")

    async def request(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self._host}\r\n"
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        self._writer.write(head.encode() + b"\r\n" + payload)
        status_line = await self._reader.readline()
        length = 0
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self._reader.readexactly(length)

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


async def measure(host: str, port: int, route: str, method: str, body: object, clients: int, total: int) -> Figures:
    connections = [await Connection.open(host, port) for _ in range(clients)]
    for connection in connections:  # warm up
        await connection.request(method, route, body)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    per_client = total // clients

    async def run(connection: Connection) -> None:
        for _ in range(per_client):
            started = time.perf_counter()
            status, _ = await connection.request(method, route, body)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(run(c) for c in connections))
    elapsed = time.perf_counter() - began
    for connection in connections:
        await connection.close()
    values = np.array(latencies) * 1000.0
    return Figures(
        route=f"{method} {route}",
        clients=clients,
        requests=len(latencies),
        per_second=len(latencies) / elapsed,
        p50_ms=float(np.percentile(values, 50)),
        p99_ms=float(np.percentile(values, 99)),
        statuses=",".join(f"{s}x{n}" for s, n in sorted(statuses.items())),
    )


async def fill(host: str, port: int, trades: int) -> int:
    """Open and register ``trades`` positions over HTTP; returns one registered ticket."""
    connections = [await Connection.open(host, port) for _ in range(10)]
    tickets: list[int] = []

    async def work(connection: Connection, indices: range) -> None:
        for i in indices:
            symbol = SYMBOLS[i % len(SYMBOLS)]
            status, raw = await connection.request(
                "POST",
                "/sim/order_send",
                {"action": 1, "symbol": symbol, "volume": 0.01, "type": i % 2, "type_filling": 1},
            )
            result = json.loads(raw)
            if status != 200 or result["retcode"] != 10009:
                raise SystemExit(f"could not open a position: {status} {raw[:200]!r}")
            status, raw = await connection.request(
                "POST",
                "/dtms/trade/enable",
                {"ticket": result["order"], "symbol": symbol, "direction": "BUY" if i % 2 == 0 else "SELL"},
            )
            if status != 200:
                raise SystemExit(f"could not register: {status} {raw[:200]!r}")
            tickets.append(result["order"])

    await asyncio.gather(*(work(c, range(n, trades, len(connections))) for n, c in enumerate(connections)))
    for connection in connections:
        await connection.close()
    return tickets[0]


def prepare_broker(data_dir: Path, balance: float) -> None:
    """A simulated account large enough for the margin of every position (the program resumes this world)."""
    from app.terminal.sim import SimulatedTerminal

    SimulatedTerminal(data_dir=data_dir, balance=balance).control("state")


def start_program(data_dir: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "--headless",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            "--terminal",
            "sim",
            "--no-demo",
            "--config",
            str(data_dir / "absent.toml"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if match := LISTENING.search(line):
            subprocess_drain(process)
            return process, match.group(1).decode(), int(match.group(2))
    raise SystemExit("the program ended before it listened")


def subprocess_drain(process: subprocess.Popen[bytes]) -> None:
    """Keep reading the program's output so its pipe never fills."""
    import threading

    def drain() -> None:
        assert process.stdout is not None
        for _ in process.stdout:
            pass

    threading.Thread(target=drain, daemon=True).start()


async def wait_ready(host: str, port: int) -> None:
    connection = await Connection.open(host, port)
    deadline = time.monotonic() + 60
    while (await connection.request("GET", "/health"))[0] != 200:
        if time.monotonic() > deadline:
            raise SystemExit("DTMS did not become ready")
        await asyncio.sleep(0.1)
    await connection.close()


async def run(args: argparse.Namespace, host: str, port: int) -> list[Figures]:
    await wait_ready(host, port)
    began = time.perf_counter()
    ticket = await fill(host, port, args.trades)
    print(f"{args.trades} trades opened and registered in {time.perf_counter() - began:.1f} s", flush=True)
    await asyncio.sleep(2.0)  # let the monitoring loop settle into its 1 s cycle
    enable = {"ticket": ticket, "symbol": SYMBOLS[0], "direction": "BUY"}
    figures = []
    for clients in (1, 50):
        total = args.requests if clients == 1 else args.requests * 2
        for route, method, body in (
            ("/ping", "GET", None),
            ("/dtms/health", "GET", None),
            ("/dtms/trade/enable", "POST", enable),
        ):
            figures.append(await measure(host, port, route, method, body, clients, total))
    connection = await Connection.open(host, port)
    status = json.loads((await connection.request("GET", "/dtms/status"))[1])
    await connection.close()
    print(
        f"engine {status['state']}, {status['active_trades']} managed trades, "
        f"monitoring {'on' if status['monitoring_active'] else 'off'}"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=2000, help="requests per route at 1 client (x2 at 50)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dtms-bench-api-") as tmp:
        prepare_broker(Path(tmp), balance=10_000_000.0)
        process, host, port = start_program(Path(tmp))
        try:
            figures = asyncio.run(run(args, host, port))
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=30)
    print(f"\n{'route':<28}{'clients':>8}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for f in figures:
        print(
            f"{f.route:<28}{f.clients:>8}{f.requests:>10}{f.per_second:>9.0f}{f.p50_ms:>9.2f}{f.p99_ms:>9.2f}"
            f"  {f.statuses}"
        )
    print(f"\nprogram stopped with exit code {code}")


if __name__ == "__main__":
    main()

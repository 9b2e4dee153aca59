"""Benchmark jq against raw arq on one private local Redis, in the same run.

Run: `python tests/bench/bench.py [--jobs N] [--quick] [--tcp]`. Prints a table; see
docs/benchmarks.md for what each row means. Not a pytest module (no test_ prefix).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from statistics import median
from typing import Any

from pydantic import BaseModel, SecretStr
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from arq import Worker as ArqWorker  # noqa: E402
from arq.connections import ArqRedis, RedisSettings, create_pool  # noqa: E402
from arq.worker import func  # noqa: E402

from jq.connection import client  # noqa: E402
from jq.events import follow  # noqa: E402
from jq.queue import QueueManager  # noqa: E402
from jq.settings import Settings  # noqa: E402
from jq.tasks import UpdateProgress, get_task_type, task  # noqa: E402
from jq.worker import Worker  # noqa: E402

NOOP, PROGRESS = "bench-noop", "bench-progress"
Row = tuple[str, str, str, str, str]
Cost = tuple[float, float, float]  # jobs/s, Redis commands per job, client round trips per job


class EmptyModel(BaseModel):
    """No input."""


class Probe:
    """Shared by processors and the bench: start times, progress send times, round trips."""

    started = 0.0
    event: asyncio.Event | None = None
    sent: list[float] = []
    trips = 0


@task(NOOP, input=EmptyModel)
async def noop(*, id: str, data: EmptyModel, update_progress: UpdateProgress) -> None:
    Probe.started = time.perf_counter()
    if Probe.event is not None:
        Probe.event.set()


@task(PROGRESS, input=EmptyModel)
async def chatty(*, id: str, data: EmptyModel, update_progress: UpdateProgress) -> None:
    for i in range(len(Probe.sent)):
        Probe.sent[i] = time.perf_counter()
        await update_progress(current=i + 1, total=len(Probe.sent))
        await asyncio.sleep(0.002)


async def arq_noop(ctx: dict[str, Any]) -> None:
    await noop(id="", data=EmptyModel(), update_progress=None)  # type: ignore[arg-type]


def count_round_trips() -> None:
    """Count every request redis-py writes to a socket (a pipeline is one), for jq and arq."""
    send = AbstractConnection.send_packed_command

    async def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        Probe.trips += 1
        await send(self, command, check_health)

    AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj).encode()


ARQ_JSON: dict[str, Any] = {"job_serializer": _dumps, "job_deserializer": json.loads}


class Bench:
    """The measurements, against one private redis-server."""

    def __init__(self, url: str, arq_settings: RedisSettings) -> None:
        self.url, self.arq_settings = url, arq_settings
        self.settings = Settings(redis_url=SecretStr(url), _env_file=None)  # type: ignore[call-arg]
        self.admin = Redis.from_url(url, decode_responses=True)

    def jq(self) -> tuple[Redis, QueueManager]:
        redis = client(self.settings, url=self.url)
        return redis, QueueManager(redis, self.settings)

    def worker(
        self, redis: Redis, name: str, conc: int | None = None, burst: bool = True
    ) -> Worker:
        return Worker(
            redis, self.settings, {name: get_task_type(name)}, concurrency=conc, burst=burst
        )

    async def reset(self) -> None:
        await self.admin.flushdb()
        await self.admin.config_resetstat()
        Probe.trips = 0

    async def cost(self, n: int, took: float) -> Cost:
        """Rate, and commands (incl. those run inside Lua) and round trips per job since reset."""
        trips = Probe.trips
        stats = await self.admin.info("commandstats")
        cmds = sum(
            v["calls"] for k, v in stats.items() if k not in ("cmdstat_info", "cmdstat_config")
        )
        return n / took, cmds / n, trips / n

    async def arq_pool(self) -> ArqRedis:
        return await create_pool(self.arq_settings, **ARQ_JSON)

    def arq_worker(self, pool: ArqRedis, poll: float, conc: int, burst: bool) -> ArqWorker:
        fn = func(arq_noop, name="noop")
        return ArqWorker(
            [fn],
            redis_pool=pool,
            burst=burst,
            poll_delay=poll,
            max_jobs=conc,
            handle_signals=False,
            **ARQ_JSON,
        )

    async def jq_throughput(self, n: int, conc: int) -> Cost:
        """Add n jobs with add_jobs, then time one burst worker until drained."""
        await self.reset()
        redis, qm = self.jq()
        await qm.add_jobs(NOOP, [{}] * n)
        worker = self.worker(redis, NOOP, conc)
        t0 = time.perf_counter()
        await worker.run()
        result = await self.cost(n, time.perf_counter() - t0)
        await redis.aclose()
        assert worker.counts["completed"] == n, worker.counts
        return result

    async def arq_throughput(self, n: int, conc: int, poll: float) -> Cost:
        await self.reset()
        pool = await self.arq_pool()
        await self.arq_enqueue(pool, n, 1000)
        worker = self.arq_worker(pool, poll, conc, burst=True)
        t0 = time.perf_counter()
        await worker.async_run()
        result = await self.cost(n, time.perf_counter() - t0)
        await worker.close()
        assert worker.jobs_complete == n, worker.jobs_complete
        return result

    @staticmethod
    async def arq_enqueue(pool: ArqRedis, n: int, batch: int) -> None:
        for start in range(0, n, batch):
            await asyncio.gather(*(pool.enqueue_job("noop") for _ in range(min(batch, n - start))))

    async def pickups(
        self, n: int, gap: float, enqueue: Callable[[], Awaitable[Any]]
    ) -> list[float]:
        """Seconds from the enqueue call to the processor's first line, one job at a time."""
        Probe.event, out = asyncio.Event(), []
        await asyncio.sleep(0.2)  # the worker is up and idle
        for _ in range(n):
            await asyncio.sleep(random.uniform(0.002, gap))  # no phase lock with a poll loop
            Probe.event.clear()
            t0 = time.perf_counter()
            await enqueue()
            await asyncio.wait_for(Probe.event.wait(), 5)
            out.append(Probe.started - t0)
        Probe.event = None
        return out

    async def jq_pickup(self, n: int) -> list[float]:
        await self.reset()
        redis, qm = self.jq()
        worker = self.worker(redis, NOOP, burst=False)
        running = asyncio.create_task(worker.run())
        out = await self.pickups(n, 0.01, lambda: qm.add_job(NOOP))
        worker.stop()
        await running
        await redis.aclose()
        return out

    async def arq_pickup(self, n: int, poll: float) -> list[float]:
        await self.reset()
        worker = self.arq_worker(pool := await self.arq_pool(), poll, 3, burst=False)
        running = asyncio.create_task(worker.async_run())
        out = await self.pickups(n, max(0.01, poll), lambda: pool.enqueue_job("noop"))
        await asyncio.sleep(0.1)  # let the last job's result be stored
        with suppress(asyncio.CancelledError):
            await worker.close()
        await asyncio.gather(running, return_exceptions=True)
        return out

    async def jq_progress(self, n: int) -> list[float]:
        """Seconds from `update_progress` to a `follow()` watcher receiving the event."""
        await self.reset()
        Probe.sent = [0.0] * n
        redis, qm = self.jq()
        await qm.hold(PROGRESS)  # the watcher subscribes before the job can start
        jid = await qm.add_job(PROGRESS)
        got: list[float] = []
        subscribed = asyncio.Event()

        async def watch() -> None:
            async for event in follow(redis, [jid]):
                subscribed.set()
                if event.event == "progress" and event.progress.current:
                    got.append(time.perf_counter() - Probe.sent[event.progress.current - 1])

        watcher = asyncio.create_task(watch())
        await subscribed.wait()
        running = asyncio.create_task(self.worker(redis, PROGRESS).run())
        await qm.release(PROGRESS)
        await asyncio.wait_for(watcher, 60)
        await running
        await redis.aclose()
        return got

    async def jq_bulk(self, n: int) -> float:
        await self.reset()
        redis, qm = self.jq()
        await qm.add_jobs(NOOP, [{}] * 10)  # warm up: script load, task registry
        t0 = time.perf_counter()
        await qm.add_jobs(NOOP, [{}] * n)
        took = time.perf_counter() - t0
        await redis.aclose()
        return n / took

    async def arq_bulk(self, n: int, batch: int) -> float:
        await self.reset()
        pool = await self.arq_pool()
        t0 = time.perf_counter()
        await self.arq_enqueue(pool, n, batch)
        took = time.perf_counter() - t0
        await pool.aclose()
        return n / took


def startup(args: list[str], url: str, runs: int) -> float | None:
    """Median seconds for `python <args>`, or None if it fails (e.g. the CLI is not there yet)."""
    env = {**os.environ, "JQ_REDIS_URL": url, "PYTHONPATH": str(ROOT / "src")}
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, *args], env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            return None
    return median(times)


def pct(xs: list[float], q: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(q * len(xs)))]


def fmt(x: float | None, kind: str, missing: str = "-") -> str:
    if x is None:
        return missing
    return {"ms": f"{x * 1000:.2f} ms", "rate": f"{x:,.0f}/s", "n": f"{x:.1f}"}[kind]


async def measure(opts: argparse.Namespace, b: Bench) -> list[Row]:
    n, quick, rows = opts.jobs, opts.quick, []

    def add(
        name: str, kind: str, jq: float | None, tuned: float | None, slow: float | None
    ) -> None:
        ratio = "-" if jq is None or not tuned else f"{jq / tuned:.2f}x"
        rows.append((name, fmt(jq, kind, "n/a"), fmt(tuned, kind), fmt(slow, kind), ratio))

    for conc in (50, 3):
        jq_ = await b.jq_throughput(n, conc)
        tuned = await b.arq_throughput(n, conc, 0.01)
        slow = await b.arq_throughput(min(n, 200 if quick else 1000), conc, 0.5)
        add(f"throughput, no-op jobs/s, concurrency {conc}", "rate", jq_[0], tuned[0], slow[0])
        if conc == 50:
            add("  Redis commands/job (incl. inside Lua)", "n", jq_[1], tuned[1], slow[1])
            add("  client round trips/job", "n", jq_[2], tuned[2], slow[2])
    samples = 30 if quick else 200
    pick = [await b.jq_pickup(samples), await b.arq_pickup(samples, 0.01)]
    pick.append(await b.arq_pickup(5 if quick else 20, 0.5))
    prog = await b.jq_progress(50 if quick else 300)
    for label, q in (("median", 0.5), ("p95", 0.95)):
        add(f"pickup latency, {label}", "ms", *(pct(x, q) for x in pick))
    for label, q in (("median", 0.5), ("p95", 0.95)):
        add(f"progress -> follow() watcher, {label}", "ms", pct(prog, q), None, None)
    bulk = 2000 if quick else 20_000
    jq_b = await b.jq_bulk(bulk)
    add(f"bulk add {bulk} (arq: await each)", "rate", jq_b, await b.arq_bulk(bulk, 1), None)
    add(f"bulk add {bulk} (arq: gather 1000s)", "rate", jq_b, await b.arq_bulk(bulk, 1000), None)
    version = (await b.admin.info("server"))["redis_version"]
    await b.admin.aclose()
    runs = 2 if quick else 5
    jq_help, arq_help = (startup(["-m", m, "--help"], b.url, runs) for m in ("jq", "arq"))
    add("startup: jq --help (arq: arq --help)", "ms", jq_help, arq_help, None)
    add("startup: jq ls", "ms", startup(["-m", "jq", "ls"], b.url, runs), None, None)
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')} · nproc {os.cpu_count()} · Python"
        f" {platform.python_version()} · redis-server {version} over {b.url.split(':')[0]}"
    )
    return rows


def start_redis(tmp: Path, tcp: bool) -> tuple[subprocess.Popen[bytes], str, RedisSettings]:
    """A private redis-server: a unix socket in `tmp`, plus a free TCP port with --tcp."""
    sock, port = tmp / "redis.sock", 0
    if tcp:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    args = [
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--unixsocket",
        str(sock),
        "--unixsocketperm",
        "700",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp),
    ]
    proc = subprocess.Popen(["redis-server", *args], stdout=subprocess.DEVNULL)
    for _ in range(100):
        if sock.exists():
            break
        time.sleep(0.05)
    if tcp:
        return proc, f"redis://127.0.0.1:{port}/0", RedisSettings(port=port)
    return proc, f"unix://{sock}", RedisSettings(unix_socket_path=str(sock))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=5000, help="jobs for the throughput rows")
    parser.add_argument("--quick", action="store_true", help="small samples: a smoke run")
    parser.add_argument("--tcp", action="store_true", help="talk to Redis over TCP, not a socket")
    opts = parser.parse_args()
    if opts.quick and opts.jobs == 5000:
        opts.jobs = 500
    count_round_trips()
    with tempfile.TemporaryDirectory(prefix="jq-bench-") as tmp:
        proc, url, arq_settings = start_redis(Path(tmp), opts.tcp)
        try:
            rows = asyncio.run(measure(opts, Bench(url, arq_settings)))
        finally:
            proc.terminate()
            proc.wait(10)
    head: Row = ("metric", "jq", "arq tuned", "arq default", "jq/arq tuned")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    for r in [head, *rows]:
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))]  # noqa: B905
        print("  ".join(cells))


if __name__ == "__main__":
    main()

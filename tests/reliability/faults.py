"""Tools for the fault-injection suite: worker processes to kill, stop and signal, a recorder of
every job event with the moment it arrived, and the one-line report of measured figures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from jq import keys

WORKER_MAIN = Path(__file__).with_name("worker_main.py")
# Short leases keep the suite fast; the engine's behaviour does not depend on the value.
FAST_ENV = {"JQ_LEASE": "2", "JQ_KEEP_COMPLETED": "1000000", "JQ_KEEP_FAILED": "1000000"}


def report(**figures: Any) -> None:
    """Print measured figures on one line the lead collects from `pytest -s` output."""
    print("RELIABILITY: " + json.dumps(figures, sort_keys=True), flush=True)


@dataclass
class WorkerProcess:
    """One `worker_main.py` process and its log file."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    worker_id: str = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    async def wait_ready(self, timeout: float = 20.0) -> str:
        """Wait for the worker's start line; returns its id (host:pid:suffix)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"worker (\S+): ", self.log())
            if match:
                self.worker_id = match.group(1)
                return self.worker_id
            if not self.alive:
                raise AssertionError(f"worker exited early:\n{self.log()}")
            await asyncio.sleep(0.02)
        raise AssertionError(f"worker did not start:\n{self.log()}")

    async def wait_exit(self, timeout: float) -> int:
        """Wait for the process to end; its return code."""
        deadline = time.monotonic() + timeout
        while self.alive and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self.alive:
            raise AssertionError(f"worker still running after {timeout}s:\n{self.log()[-3000:]}")
        return int(self.proc.returncode)


class Workers:
    """Starts worker processes for one test and makes sure none outlives it."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.started: list[WorkerProcess] = []

    def start(
        self, env: dict[str, str] | None = None, types: tuple[str, ...] = ("demo",)
    ) -> WorkerProcess:
        n = len(self.started)
        log_path = self.dir / f"worker-{n}.log"
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(
                [sys.executable, str(WORKER_MAIN), *types],
                env={**os.environ, **FAST_ENV, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(proc, log_path)
        self.started.append(worker)
        return worker

    async def start_ready(
        self, count: int, env: dict[str, str] | None = None
    ) -> list[WorkerProcess]:
        """Start `count` workers and wait until each has announced itself."""
        started = [self.start(env) for _ in range(count)]
        for w in started:
            await w.wait_ready()
        return started

    def stop_all(self) -> None:
        for w in self.started:
            if w.alive:
                with contextlib.suppress(ProcessLookupError):
                    w.proc.send_signal(signal.SIGCONT)  # a SIGSTOPped one cannot die otherwise
                w.proc.kill()
            w.proc.wait()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


@dataclass
class Recorder:
    """Every event seen on `jq:events`, counted per job, with the monotonic time it arrived."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    times: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    reasons: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def seen(self, event: dict[str, Any]) -> None:
        key = (event["id"], event["event"])
        self.counts[key] += 1
        if event["event"] in ("active", "retrying", "requeued"):
            self.times[key].append(time.monotonic())
        if event.get("reason"):
            self.reasons[event["id"]].append(f"{event['event']}: {event['reason']}")

    def total(self, event: str) -> int:
        return sum(n for (_, ev), n in self.counts.items() if ev == event)

    def per_job(self, event: str) -> Counter[str]:
        return Counter({jid: n for (jid, ev), n in self.counts.items() if ev == event})


@pytest.fixture
async def recorder(redis_url: str) -> AsyncIterator[Recorder]:
    """Subscribe to job events before the test adds anything."""
    rec = Recorder()
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(keys.EVENTS)

    async def pump() -> None:
        async for message in pubsub.listen():
            rec.seen(json.loads(message["data"]))

    task = asyncio.create_task(pump())
    try:
        yield rec
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await pubsub.aclose()
        await client.aclose()


async def wait_until(
    predicate: Callable[[], Any], timeout: float, interval: float = 0.05, what: str = "condition"
) -> None:
    """Poll an async or sync predicate until it is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcome = predicate()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def count_state(client: redis.asyncio.Redis, state: str) -> int:
    return int(await client.zcard(keys.state(state)))

"""Helpers for engine tests against the real Redis: a worker run as a task, an event log,
bounded waits, and a scan for every key that still names a job."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

from jq.errors import JobNotFound
from jq.models import Event, Job, JobState
from jq.queue import QueueManager
from jq.settings import Settings
from jq.tasks import get_task_type
from jq.worker import Worker

WAIT = 10.0  # seconds: the most any wait below lasts before the test fails


def make_settings(redis_url: str, **knobs: Any) -> Settings:
    """Settings with every engine knob a test relies on spelled out."""
    base: dict[str, Any] = {"backoff": 2.0, "lease": 5.0, "grace": 1.0}
    return Settings(redis_url=redis_url, **{**base, **knobs})


@asynccontextmanager
async def worker(
    redis: Redis, settings: Settings, *types: str, concurrency: int = 1
) -> AsyncIterator[Worker]:
    """A worker for `types` running as a task; stopped (jobs handed back) on exit."""
    w = Worker(redis, settings, {t: get_task_type(t) for t in types}, concurrency=concurrency)
    task = asyncio.create_task(w.run())
    try:
        yield w
    finally:
        w.stop(now=True)
        await asyncio.wait_for(task, WAIT)


async def run_burst(redis: Redis, settings: Settings, *types: str) -> None:
    """Run every ready job of `types` with one slot, then return."""
    w = Worker(redis, settings, {t: get_task_type(t) for t in types}, concurrency=1, burst=True)
    await asyncio.wait_for(w.run(), WAIT)


async def wait_state(
    qm: QueueManager, job_id: str, *states: JobState | str, timeout: float = WAIT
) -> Job:
    """Poll until the job is in one of `states`; fail the test if that takes over `timeout`."""
    wanted = {JobState(s) for s in states}
    async with asyncio.timeout(timeout):
        while True:
            job = await qm.get_job(job_id)
            if job.state in wanted:
                return job
            await asyncio.sleep(0.02)


async def gone(qm: QueueManager, job_id: str) -> bool:
    """True when Redis holds no record of the job."""
    try:
        await qm.get_job(job_id)
    except JobNotFound:
        return True
    return False


class EventLog:
    """Every `jq:events` message since the recorder subscribed, in arrival order."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Condition()

    def of(self, job_id: str) -> list[Event]:
        return [e for e in self.events if e.id == job_id]

    def names(self, job_id: str) -> list[str]:
        return [e.event for e in self.of(job_id)]

    def started(self, ids: Iterable[str]) -> list[str]:
        """The ids in the order their attempts became active."""
        wanted = set(ids)
        return [e.id for e in self.events if e.event == "active" and e.id in wanted]

    async def add(self, event: Event) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def wait(self, match: Callable[[Event], bool], timeout: float = WAIT) -> Event:
        """The first event, already heard or yet to come, that `match`es."""
        async with asyncio.timeout(timeout), self._changed:
            seen = 0
            while True:
                for event in self.events[seen:]:
                    if match(event):
                        return event
                seen = len(self.events)
                await self._changed.wait()

    async def wait_for(self, job_id: str, *names: str, timeout: float = WAIT) -> Event:
        """The first event of `job_id` named one of `names`."""
        return await self.wait(lambda e: e.id == job_id and e.event in names, timeout)

    async def wait_stopped(self, job_id: str, timeout: float = WAIT) -> Event:
        """The progress report at which a running job, paused, stopped (its state: paused)."""
        return await self.wait(
            lambda e: e.id == job_id and e.event == "progress" and e.state == JobState.PAUSED,
            timeout,
        )


async def keys_naming(redis: Redis, job_id: str) -> list[str]:
    """Every key that holds `job_id`: in its name, or as a member of a set or zset."""
    found = []
    async for key in redis.scan_iter(count=1000):
        if key.endswith(":" + job_id):
            found.append(key)
            continue
        kind = await redis.type(key)
        in_zset = kind == "zset" and await redis.zscore(key, job_id) is not None
        if in_zset or (kind == "set" and await redis.sismember(key, job_id)):
            found.append(key)
    return found


async def redis_ms(redis: Redis) -> int:
    """Redis's clock in epoch ms (the clock the Lua scripts use)."""
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000

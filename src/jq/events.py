"""Job events: pub/sub on `jq:events`, read race-free against each job's snapshot.

A follower subscribes first, then reads the snapshots, and drops any event whose `rev` is
not newer than what it has shown, so it never misses the end of a job nor shows a stale bar.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable

from redis.asyncio import Redis

from jq import keys
from jq.errors import JobNotFound
from jq.models import TERMINAL, Event, Job, JobState
from jq.queue import read_jobs

LIVE = (JobState.ACTIVE, JobState.PAUSED, JobState.WAITING, JobState.DELAYED)
RECHECK_AFTER = 2.0  # seconds of silence after which snapshots are read again


def decode_event(data: str) -> Event | None:
    """An event from the channel, or None if it does not parse (a mangled record's event)."""
    try:
        return Event.model_validate_json(data)
    except ValueError:
        return None


def snapshot_event(job: Job, event: str = "snapshot") -> Event:
    """An event that carries a job's stored state (how a follower starts)."""
    return Event(
        event=event,
        id=job.id,
        type=job.type,
        state=job.state,
        rev=job.rev,
        ts=job.finished_at or job.started_at or job.created_at,
        progress=job.progress,
        attempt=job.attempts_made,
        result=job.result,
        error=job.error,
    )


async def _live_ids(redis: Redis) -> list[str]:
    async with redis.pipeline(transaction=False) as pipe:
        for state in LIVE:
            pipe.zrange(keys.state(state), 0, -1)
        pages = await pipe.execute()
    return [jid for page in pages for jid in page]


async def follow(redis: Redis, ids: list[str] | None = None) -> AsyncIterator[Event]:
    """Yield a snapshot of each job, then its newer events, until every job has ended.

    With no ids: every live job, and every job added while following.
    Raises JobNotFound for an unknown id before yielding anything.
    """
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(keys.EVENTS)
    try:
        watch_all = not ids
        wanted = list(dict.fromkeys(ids or await _live_ids(redis)))
        jobs = await read_jobs(redis, wanted)
        for jid, job in zip(wanted, jobs, strict=True):
            if job is None and not watch_all:
                raise JobNotFound(jid)
        revs: dict[str, int] = {}
        live: set[str] = set()
        for job in jobs:
            if job is None:
                continue
            revs[job.id] = job.rev
            if job.state not in TERMINAL:
                live.add(job.id)
            yield snapshot_event(job)
        silent = 0.0
        while live:
            message = await pubsub.get_message(timeout=0.5)
            if message is None:
                silent += 0.5
                if silent >= RECHECK_AFTER:
                    silent = 0.0
                    for missed in await _recheck(redis, live, revs):
                        yield missed
                continue
            silent = 0.0
            event = decode_event(message["data"])
            if event is None:
                continue
            if event.id not in revs and not (watch_all and event.event == "added"):
                continue
            if event.rev <= revs.get(event.id, 0):
                continue
            revs[event.id] = event.rev
            if event.state in TERMINAL:
                live.discard(event.id)
            else:
                live.add(event.id)
            yield event
    finally:
        await pubsub.aclose()


async def _recheck(redis: Redis, live: set[str], revs: dict[str, int]) -> list[Event]:
    """Events for live jobs whose stored rev moved on without us hearing (e.g. Redis restarted)."""
    ids = sorted(live)
    out = []
    for jid, job in zip(ids, await read_jobs(redis, ids), strict=True):
        if job is None:
            live.discard(jid)
        elif job.rev > revs[jid]:
            revs[jid] = job.rev
            if job.state in TERMINAL:
                live.discard(jid)
            out.append(snapshot_event(job))
    return out


Callback = Callable[[str, str, Event], Awaitable[None] | None]


def subscribe_all(redis: Redis, callback: Callback) -> asyncio.Task[None]:
    """Run `callback(task_type, job_id, event)` for every event until the task is cancelled."""

    async def pump() -> None:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(keys.EVENTS)
        try:
            async for message in pubsub.listen():
                event = decode_event(message["data"])
                if event is None:
                    continue
                outcome = callback(event.type, event.id, event)
                if inspect.isawaitable(outcome):
                    await outcome
        finally:
            await pubsub.aclose()

    return asyncio.get_running_loop().create_task(pump())

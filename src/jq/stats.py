"""`jq stats` figures: per task type counts by state, holds, throughput and backlog age; workers.

Everything is read in two pipelines: one for the types and the live worker ids, one for the
workers' records.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from jq import keys
from jq.models import JobState, ms_to_dt

RATE_MINUTES = 5  # jobs finished per minute are averaged over the last this-many minutes


async def collect(redis: Redis, types: list[str], *, now_ms: int | None = None) -> dict[str, Any]:
    """Counts by state, hold, jobs/min and oldest waiting age per type; plus the live workers."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    minute, into_minute = divmod(now_ms, 60_000)
    # The current minute counts for the part of it that has passed, so a burst shows at once.
    minutes = [minute - i for i in range(RATE_MINUTES)]
    span = max(1.0, RATE_MINUTES - 1 + into_minute / 60_000)
    states = list(JobState)
    async with redis.pipeline(transaction=False) as pipe:
        for name in types:
            for state in states:
                pipe.zcard(keys.state(state, name))
            pipe.get(keys.hold(name))
            for m in minutes:
                pipe.get(keys.done(name, m))
            pipe.zrange(keys.state(JobState.WAITING, name), 0, 0, withscores=True)
        pipe.zrangebyscore(keys.WORKERS, now_ms, "+inf")
        replies = list(await pipe.execute())
    worker_ids: list[str] = replies.pop()
    records: list[str | None] = []
    if worker_ids:
        async with redis.pipeline(transaction=False) as pipe:
            for wid in worker_ids:
                pipe.get(keys.worker(wid))
            records = list(await pipe.execute())

    per_type: dict[str, Any] = {}
    it = iter(replies)
    for name in types:
        counts = {str(state): int(next(it)) for state in states}
        held, held_until = _hold(next(it), now_ms)
        done = sum(int(next(it) or 0) for _ in minutes)
        oldest = next(it)
        per_type[name] = {
            "counts": counts,
            "held": held,
            "held_until": held_until,
            "per_minute": round(done / span, 2),
            "oldest_waiting_seconds": (
                round(max(0.0, (now_ms - float(oldest[0][1])) / 1000), 3) if oldest else None
            ),
        }
    workers = [
        _worker(wid, raw) for wid, raw in zip(worker_ids, records, strict=True) if raw is not None
    ]
    return {"types": per_type, "workers": workers}


def _hold(raw: str | None, now_ms: int) -> tuple[bool, str | None]:
    """Whether a type is held, and until when (ISO-8601; None: until released)."""
    if raw is None:
        return False, None
    try:
        until = int(float(raw))
    except ValueError:
        return True, None
    if until == 0:
        return True, None
    return until > now_ms, ms_to_dt(until).isoformat()


def _worker(worker_id: str, raw: str) -> dict[str, Any]:
    try:
        info = json.loads(raw)
    except ValueError:
        info = {}
    if not isinstance(info, dict):
        info = {}
    started = info.get("started")
    if isinstance(started, int | float):
        # Workers write epoch seconds; accept milliseconds too.
        seconds = started / 1000 if started > 1e11 else started
        started = datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    return {
        "id": worker_id,
        "host": info.get("host"),
        "pid": info.get("pid"),
        "started": started,
        "types": info.get("types") or {},
        "jobs": info.get("jobs") or [],
    }

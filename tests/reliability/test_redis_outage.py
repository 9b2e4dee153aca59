"""Redis goes away and comes back: workers carry on by themselves and nothing is lost; with AOF
every queued, delayed, paused and failed job is still there after a restart."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis.asyncio
from faults import Workers, count_state, report, wait_until

from jq import keys
from jq.queue import QueueManager
from jq.settings import load_settings
from jq.tasks import load_task_types
from jq.worker import Worker

JOBS = 600
OUTAGE = 5.0


@pytest.mark.timeout(120)
async def test_workers_ride_out_a_redis_outage_and_lose_nothing(
    redis_server: Any, aredis: redis.asyncio.Redis, workers: Workers
) -> None:
    pool = await workers.start_ready(2, {"JQ_CONCURRENCY": "3"})
    qm = QueueManager(aredis, load_settings())
    ids = await qm.add_jobs("demo", [{"steps": 1, "interval": 0.05}] * JOBS)
    await wait_until(lambda: count_state(aredis, "completed"), 10, what="first completions")
    await asyncio.sleep(1.0)

    redis_server.stop()
    await asyncio.sleep(OUTAGE)
    redis_server.start()
    back_at = time.monotonic()
    before = await count_state(aredis, "completed")
    while await count_state(aredis, "completed") == before:
        assert time.monotonic() - back_at < 30, "no job completed after Redis came back"
        await asyncio.sleep(0.005)
    resumed = time.monotonic() - back_at
    await wait_until(lambda: _count_is(aredis, "completed", JOBS), 60, what="every job")

    jobs = await qm.get_jobs(ids)
    assert all(j is not None and j.state == "completed" for j in jobs)
    reran = [j.id for j in jobs if j is not None and j.attempts_made > 1]
    assert reran == [], "an outage is no worker's fault: nothing runs twice"
    for w in pool:
        assert w.alive, f"worker died in the outage:\n{w.log()[-2000:]}"
        log = w.log()
        assert log.count("Redis unavailable") == 1, "one line per outage, not one per retry"
        assert "Redis is back" in log
    report(
        test="redis_outage",
        jobs=JOBS,
        outage_s=OUTAGE,
        back_to_first_completion_s=round(resumed, 3),
        jobs_run_twice=len(reran),
        completed_before_outage=before,
    )


async def _count_is(client: redis.asyncio.Redis, state: str, n: int) -> bool:
    return await count_state(client, state) == n


async def _snapshot(client: redis.asyncio.Redis) -> dict[str, Any]:
    """Every jq and arq key with its value, as plain data."""
    out: dict[str, Any] = {}
    async for key in client.scan_iter("*"):
        kind = await client.type(key)
        if kind == "hash":
            out[key] = await client.hgetall(key)
        elif kind == "zset":
            out[key] = await client.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            out[key] = sorted(await client.smembers(key))
        elif kind == "string":
            out[key] = await client.get(key)
    return out


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
@pytest.mark.timeout(60)
async def test_every_queued_delayed_paused_and_failed_job_survives_a_redis_restart(
    redis_server: Any, redis_url: str, kill: bool
) -> None:
    settings = load_settings()
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    qm = QueueManager(client, settings)
    failed = await qm.add_job("demo", {"steps": 1, "interval": 0, "fail_at": 1}, attempts=1)
    worker = Worker(client, settings, {"demo": load_task_types()["demo"]}, burst=True)
    await worker.run()
    waiting = await qm.add_jobs("demo", [{"steps": 1}] * 3)
    delayed = await qm.add_jobs("demo", [{"steps": 1}] * 2, delay=3600)
    paused = await qm.add_job("demo", {"steps": 1})
    await qm.pause_job(paused)
    await client.aclose()

    states = {failed: "failed", paused: "paused"}
    states |= dict.fromkeys(waiting, "waiting") | dict.fromkeys(delayed, "delayed")
    before_client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    before = await _snapshot(before_client)
    await before_client.aclose()

    redis_server.restart(kill=kill)

    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert await _snapshot(client) == before
        qm = QueueManager(client, settings)
        for jid, state in states.items():
            assert (await qm.get_job(jid)).state == state
        assert await client.zrange(keys.queue("demo"), 0, -1) == waiting
        assert sorted(await client.zrange(keys.DELAYED, 0, -1)) == sorted(delayed)
    finally:
        await client.aclose()

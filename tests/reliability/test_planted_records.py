"""Records planted or mangled in Redis by someone else: they fail or requeue their own job and
never stall the engine for the others."""

from __future__ import annotations

import asyncio

import redis.asyncio

from jq import keys
from jq.queue import QueueManager
from jq.scripts import Scripts
from jq.settings import load_settings


async def test_a_corrupt_error_history_does_not_stop_the_reaper(
    aredis: redis.asyncio.Redis,
) -> None:
    qm = QueueManager(aredis, load_settings())
    ids = await qm.add_jobs("demo", [{"steps": 1}] * 3)
    scripts = Scripts(aredis)
    claimed = await scripts.claim(args=["dead-worker", 1, "demo", 3])  # a 1 ms lease
    assert len(claimed) == 1 + 3 * 8
    await aredis.hset(keys.job(ids[0]), "errors", "not json")
    await aredis.hset(keys.job(ids[1]), "errors", '{"a": "dict, not a list"}')
    await asyncio.sleep(0.01)

    taken_back = await scripts.reap(args=[])

    assert sorted(taken_back) == sorted(ids)
    for job in await qm.get_jobs(ids):
        assert job is not None
        assert job.state == "waiting"
        assert job.errors[-1].type == "WorkerLost"
    assert await aredis.zcard(keys.LEASES) == 0

"""Many worker processes on one Redis, no faults: ten thousand jobs, each run exactly once."""

from __future__ import annotations

import time

import pytest
import redis.asyncio
from faults import Recorder, Workers, count_state, report, wait_until

from jq import keys
from jq.queue import QueueManager
from jq.settings import load_settings

JOBS = 10_000
WORKERS = 4


@pytest.mark.timeout(180)
async def test_ten_thousand_jobs_on_four_workers_each_run_exactly_once(
    aredis: redis.asyncio.Redis, recorder: Recorder, workers: Workers
) -> None:
    await workers.start_ready(WORKERS, {"JQ_CONCURRENCY": "10"})
    qm = QueueManager(aredis, load_settings())
    added_at = time.monotonic()
    ids = await qm.add_jobs("demo", [{"steps": 1, "interval": 0}] * JOBS)
    add_s = time.monotonic() - added_at

    async def all_done() -> bool:
        return await count_state(aredis, "completed") == JOBS

    await wait_until(all_done, 150, interval=0.1, what=f"{JOBS} completed jobs")
    elapsed = time.monotonic() - added_at
    await wait_until(lambda: recorder.total("completed") == JOBS, 10, what="the last events")

    jobs = await qm.get_jobs(ids)
    assert all(j is not None and j.state == "completed" for j in jobs)
    assert all(j is not None and j.attempts_made == 1 for j in jobs)
    assert set(recorder.per_job("completed").values()) == {1}
    assert set(recorder.per_job("active").values()) == {1}
    assert len(recorder.per_job("active")) == JOBS
    ran_on = {j.worker for j in jobs if j is not None}
    assert len(ran_on) == WORKERS, "every worker took a share"
    done = 0
    async for key in aredis.scan_iter(keys.DONE + "demo:*"):
        done += int(await aredis.get(key) or 0)
    assert done == JOBS
    assert await aredis.zcard(keys.LEASES) == 0
    report(
        test="many_workers",
        jobs=JOBS,
        workers=WORKERS,
        add_s=round(add_s, 2),
        run_s=round(elapsed, 1),
        jobs_per_s=round(JOBS / elapsed),
    )

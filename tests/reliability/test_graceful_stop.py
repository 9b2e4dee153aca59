"""SIGTERM lets running jobs finish within the grace period, then hands the rest back without
counting an attempt; a second signal hands them back at once."""

from __future__ import annotations

import signal
import time

import pytest
import redis.asyncio
from faults import Recorder, Workers, count_state, report, wait_until

from jq import keys
from jq.queue import QueueManager
from jq.settings import load_settings

LONG = {"steps": 20, "interval": 0.1}  # two seconds a job


async def _all_active(client: redis.asyncio.Redis, n: int) -> bool:
    return await count_state(client, "active") == n


@pytest.mark.timeout(60)
async def test_sigterm_lets_running_jobs_finish_within_the_grace_period(
    aredis: redis.asyncio.Redis, recorder: Recorder, workers: Workers
) -> None:
    worker = (await workers.start_ready(1, {"JQ_CONCURRENCY": "3", "JQ_GRACE": "30"}))[0]
    qm = QueueManager(aredis, load_settings())
    ids = await qm.add_jobs("demo", [LONG] * 5)
    await wait_until(lambda: _all_active(aredis, 3), 10, what="three running jobs")

    worker.signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    assert await worker.wait_exit(15) == 0
    drained = time.monotonic() - stopped_at

    jobs = await qm.get_jobs(ids)
    finished = [j for j in jobs if j is not None and j.state == "completed"]
    assert len(finished) == 3, "the three running jobs finish; no new one starts"
    assert all(j.attempts_made == 1 and not j.errors for j in finished)
    assert sorted(j.state for j in jobs if j is not None).count("waiting") == 2
    assert recorder.total("failed") == 0 and recorder.total("requeued") == 0
    assert "waiting up to 30s for 3 running job(s)" in worker.log()
    report(test="sigterm_grace", running_jobs=3, drain_s=round(drained, 2))


@pytest.mark.timeout(60)
async def test_sigterm_after_a_short_grace_hands_jobs_back_without_counting_an_attempt(
    aredis: redis.asyncio.Redis, recorder: Recorder, workers: Workers
) -> None:
    env = {"JQ_CONCURRENCY": "3", "JQ_GRACE": "0.5"}
    first = (await workers.start_ready(1, env))[0]
    qm = QueueManager(aredis, load_settings())
    ids = await qm.add_jobs("demo", [LONG] * 3)
    await wait_until(lambda: _all_active(aredis, 3), 10, what="three running jobs")
    second = (await workers.start_ready(1, env))[0]  # idle: every job is taken

    first.signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    assert await first.wait_exit(10) == 0
    handed_back = time.monotonic() - stopped_at
    assert handed_back < 5, "the grace period is 0.5 s; hand-back must follow at once"

    await wait_until(lambda: count_state(aredis, "completed"), 10, what="first completion")
    await wait_until(
        lambda: _count_is(aredis, "completed", 3), 10, what="all three completed by the other"
    )
    for job in await qm.get_jobs(ids):
        assert job is not None
        assert job.state == "completed"
        assert job.worker == second.worker_id
        assert job.attempts_made == 1, "a hand-back is not a failed attempt"
        assert job.errors == []
        assert recorder.per_job("requeued")[job.id] == 1
        assert recorder.reasons[job.id] == ["requeued: worker stopping; job handed back"]
    assert recorder.total("failed") == 0 and recorder.total("retrying") == 0
    report(test="sigterm_handback", grace_s=0.5, sigterm_to_exit_s=round(handed_back, 2))


@pytest.mark.timeout(60)
async def test_second_sigterm_hands_jobs_back_at_once(
    aredis: redis.asyncio.Redis, recorder: Recorder, workers: Workers
) -> None:
    worker = (await workers.start_ready(1, {"JQ_CONCURRENCY": "2", "JQ_GRACE": "30"}))[0]
    qm = QueueManager(aredis, load_settings())
    ids = await qm.add_jobs("demo", [{"steps": 100, "interval": 0.1}] * 2)
    await wait_until(lambda: _all_active(aredis, 2), 10, what="two running jobs")

    worker.signal(signal.SIGTERM)
    await wait_until(lambda: "waiting up to 30s" in worker.log(), 5, what="the drain to begin")
    worker.signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    assert await worker.wait_exit(5) == 0
    second_to_exit = time.monotonic() - stopped_at

    for job in await qm.get_jobs(ids):
        assert job is not None
        assert job.state == "waiting"
        assert job.attempts_made == 0
    assert await aredis.zcard(keys.queue("demo")) == 2
    assert recorder.total("requeued") == 2
    report(test="second_sigterm", second_signal_to_exit_s=round(second_to_exit, 2))


async def _count_is(client: redis.asyncio.Redis, state: str, n: int) -> bool:
    return await count_state(client, state) == n

"""Lost leases: a job whose worker stopped renewing runs again, and fails after its last attempt."""

from __future__ import annotations

import asyncio

from jq.models import JobState
from jq.queue import QueueManager
from jq.settings import Settings


async def _claim_and_lose(qm: QueueManager, worker: str) -> None:
    """Claim the next demo job with a 1 ms lease that nobody renews, then reap it."""
    reply = await qm.scripts.claim(args=[worker, 1, "demo", 1])
    assert len(reply) > 1, "nothing was claimed"
    await asyncio.sleep(0.01)
    assert await qm.scripts.reap(args=[])


async def test_a_lost_lease_requeues_the_job_at_the_front_as_a_new_attempt(redis_url: str) -> None:
    qm = await QueueManager.connect(Settings(redis_url=redis_url))
    first = await qm.add_job("demo", {}, attempts=3)
    second = await qm.add_job("demo", {})
    await _claim_and_lose(qm, "crashed-worker")

    job = await qm.get_job(first)
    assert (job.state, job.attempts_made) == (JobState.WAITING, 1)
    assert job.errors[-1].type == "WorkerLost" and "crashed-worker" in job.errors[-1].message
    reply = await qm.scripts.claim(args=["w2", 60_000, "demo", 1])
    assert reply[1] == first  # ahead of `second`, which waited behind it all along
    assert (await qm.get_job(second)).state is JobState.WAITING
    await qm.close()


async def test_a_job_that_loses_its_worker_on_its_last_attempt_fails(redis_url: str) -> None:
    qm = await QueueManager.connect(Settings(redis_url=redis_url))
    jid = await qm.add_job("demo", {}, attempts=2)
    await _claim_and_lose(qm, "w1")
    await _claim_and_lose(qm, "w2")

    job = await qm.get_job(jid)
    assert (job.state, job.attempts_made) == (JobState.FAILED, 2)
    assert [e.type for e in job.errors] == ["WorkerLost", "WorkerLost"]
    assert jid in [j.id for j in await qm.list_jobs(JobState.FAILED)]
    await qm.close()

"""Workers die (SIGKILL) or are cut off (SIGSTOP) mid-job: every job still ends exactly once,
on another worker, within about a lease; a late result from a cut-off worker is discarded."""

from __future__ import annotations

import asyncio
import random
import signal
import statistics
import time

import pytest
import redis.asyncio
from faults import (
    Recorder,
    Workers,
    count_state,
    report,
    wait_until,
)

from jq import keys
from jq.queue import QueueManager
from jq.settings import load_settings

JOBS = 2000
CONCURRENCY = 3
MAX_KILLS = 10  # past this the run just finishes: enough to show the bound, and bounded


async def _held_by(client: redis.asyncio.Redis, worker_id: str) -> set[str]:
    """Ids of the active jobs whose lease names `worker_id`."""
    ids = await client.zrange(keys.state("active"), 0, -1)
    held = set()
    for jid in ids:
        if await client.hget(keys.job(jid), "worker") == worker_id:
            held.add(jid)
    return held


@pytest.mark.timeout(240)
async def test_sigkilled_worker_jobs_rerun_elsewhere_and_nothing_is_lost(
    aredis: redis.asyncio.Redis, recorder: Recorder, workers: Workers
) -> None:
    env = {"JQ_CONCURRENCY": str(CONCURRENCY)}
    victim, *_others = await workers.start_ready(3, env)
    qm = QueueManager(aredis, load_settings())
    # A lost lease counts as an attempt, and a job that loses its worker on every attempt
    # fails: that policy has its own tests. Here the kills come on a cadence close to the
    # lease, so a job taken back is sometimes claimed by the next victim just before it dies;
    # an ample budget keeps this test about what it measures: nothing lost, few run twice.
    ids = await qm.add_jobs("demo", [{"steps": 1, "interval": 0.04}] * JOBS, attempts=10)
    started = time.monotonic()

    kills: list[tuple[float, set[str]]] = []
    while await count_state(aredis, "completed") < JOBS and len(kills) < MAX_KILLS:
        await asyncio.sleep(random.uniform(1.5, 2.5))  # "every couple of seconds", unaligned
        if await count_state(aredis, "completed") >= JOBS:
            break
        victim.signal(signal.SIGKILL)
        killed_at = time.monotonic()
        victim.proc.wait()
        kills.append((killed_at, await _held_by(aredis, victim.worker_id)))
        victim = workers.start(env)
        await victim.wait_ready()

    try:
        await wait_until(lambda: _all_done(aredis, JOBS), 60, what=f"{JOBS} completed jobs")
    except AssertionError:
        states = {
            s: await count_state(aredis, s) for s in ("waiting", "active", "delayed", "failed")
        }
        raise AssertionError(f"not all completed after {len(kills)} kills: {states}") from None
    elapsed = time.monotonic() - started
    jobs = await qm.get_jobs(ids)
    assert all(j is not None and j.state == "completed" for j in jobs)
    in_flight = set().union(*(held for _, held in kills))
    reran = {j.id for j in jobs if j is not None and j.attempts_made > 1}
    active = recorder.per_job("active")
    ran_twice = {jid for jid, n in active.items() if n > 1}

    # Only a job in flight at a kill may run again, and it says why.
    assert len(kills) >= 3, "the run ended before the suite could kill a worker three times"
    assert reran <= in_flight, f"jobs ran twice without a kill: {sorted(reran - in_flight)}"
    assert ran_twice == reran
    assert len(reran) <= len(kills) * CONCURRENCY
    for jid in in_flight:
        assert "retrying: lease expired" in recorder.reasons[jid]
    assert all(active[jid] == j.attempts_made for jid, j in zip(ids, jobs, strict=True) if j)

    # How long a killed worker's job waited before it started again elsewhere.
    delays = []
    for killed_at, held in kills:
        for jid in held:
            later = [t for t in recorder.times[(jid, "active")] if t > killed_at]
            delays.append(later[0] - killed_at)
    report(
        test="sigkill",
        jobs=JOBS,
        workers=3,
        concurrency=CONCURRENCY,
        lease_s=2,
        kills=len(kills),
        jobs_in_flight_at_kills=len(in_flight),
        duplicate_executions=len(reran),
        kill_to_restart_s_mean=round(statistics.mean(delays), 3) if delays else None,
        kill_to_restart_s_max=round(max(delays), 3) if delays else None,
        seconds=round(elapsed, 1),
    )


async def _all_done(client: redis.asyncio.Redis, n: int) -> bool:
    return await count_state(client, "completed") >= n


@pytest.mark.timeout(60)
async def test_cut_off_worker_loses_its_job_and_its_late_result_is_discarded(
    aredis: redis.asyncio.Redis, recorder: Recorder, workers: Workers
) -> None:
    env = {"JQ_CONCURRENCY": "1"}
    first = (await workers.start_ready(1, env))[0]
    qm = QueueManager(aredis, load_settings())
    jid = await qm.add_job("demo", {"steps": 30, "interval": 0.1})
    await wait_until(
        lambda: _owner_is(aredis, jid, first.worker_id), 10, what="the first worker's claim"
    )
    second = (await workers.start_ready(1, env))[0]

    first.signal(signal.SIGSTOP)  # as good as a network cut: it neither renews nor reports
    stopped_at = time.monotonic()
    await wait_until(
        lambda: _owner_is(aredis, jid, second.worker_id), 10, what="the second worker's takeover"
    )
    took_over = time.monotonic() - stopped_at
    await asyncio.sleep(1.0)
    first.signal(signal.SIGCONT)

    await wait_until(lambda: _state_is(aredis, jid, "completed"), 15, what="completion")
    await wait_until(
        lambda: "lease lost" in first.log() or "taken over" in first.log(), 10, what="log line"
    )
    job = await qm.get_job(jid)
    assert job.worker == second.worker_id
    assert job.attempts_made == 2
    assert recorder.per_job("completed")[jid] == 1
    assert "retrying: lease expired" in recorder.reasons[jid]
    assert first.alive, "the cut-off worker must carry on, not crash"
    report(test="sigstop", lease_s=2, stop_to_takeover_s=round(took_over, 3))


async def _owner_is(client: redis.asyncio.Redis, jid: str, worker_id: str) -> bool:
    fields = await client.hmget(keys.job(jid), ["state", "worker"])
    return fields == ["active", worker_id]


async def _state_is(client: redis.asyncio.Redis, jid: str, state: str) -> bool:
    return await client.hget(keys.job(jid), "state") == state

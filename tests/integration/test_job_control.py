"""Issue 4 against a real Redis: priorities, delays, pause and resume, abort, dead letters and
retry, retention and clean, and queue-level holds — each change announced by an event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from engine_helpers import (
    WAIT,
    EventLog,
    gone,
    keys_naming,
    make_settings,
    redis_ms,
    run_burst,
    wait_state,
    worker,
)
from pydantic import BaseModel
from redis.asyncio import Redis

from jq import keys
from jq.errors import JobNotFound, PermanentError, RetryLater
from jq.models import JobState
from jq.queue import PRIORITY_LIMIT, QueueManager
from jq.settings import Settings
from jq.tasks import UpdateProgress, task

QUICK = {"steps": 1, "interval": 0}
BROKEN = {"flaky": True}  # flipped by tests: is the flaky task's backend down?
RUNS: dict[str, int] = {}  # attempts each it-step job has started


class StepInput(BaseModel):
    sleep: float = 0.0
    retry_once: bool = False


@task("it-step", input=StepInput, attempts=3, backoff=0.0)
async def step(*, id: str, data: StepInput, update_progress: UpdateProgress) -> str:
    """Sleep a while; with retry_once, ask to be retried 0.3 s after the first attempt."""
    RUNS[id] = RUNS.get(id, 0) + 1
    if data.retry_once and RUNS[id] == 1:
        raise RetryLater("once more, shortly", 0.3)
    await asyncio.sleep(data.sleep)
    return "done"


class Empty(BaseModel):
    pass


@task("it-flaky", input=Empty, attempts=2, backoff=0.0)
async def flaky(*, id: str, data: Empty, update_progress: UpdateProgress) -> str:
    """Fail while BROKEN says its backend is down."""
    if BROKEN["flaky"]:
        raise RuntimeError("backend down")
    return "fine"


@task("it-broken", input=Empty)
async def broken(*, id: str, data: Empty, update_progress: UpdateProgress) -> None:
    """Always fail, at once."""
    raise PermanentError("never works")


@task("it-short-lived", input=Empty, keep_completed_age=0.5)
async def short_lived(*, id: str, data: Empty, update_progress: UpdateProgress) -> str:
    """Succeed; the type keeps completed records for half a second."""
    return "ok"


@pytest.fixture(autouse=True)
def _backend_down() -> None:
    BROKEN["flaky"] = True
    RUNS.clear()


def in_(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


# -- priorities and delays ------------------------------------------------------------------


async def test_ten_jobs_of_mixed_priority_start_in_priority_order(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    priorities = [0, 5, -2, 5, 10, 0, -2, 10, 5, 0]
    ids = [await qm.add_job("demo", QUICK, priority=p) for p in priorities]
    expected = [ids[i] for i in sorted(range(10), key=lambda i: (-priorities[i], i))]
    async with worker(aredis, settings, "demo", concurrency=1):
        await wait_state(qm, expected[-1], JobState.COMPLETED)
    assert events.started(ids) == expected
    jobs = [await qm.get_job(jid) for jid in expected]
    started = [job.started_at for job in jobs]
    assert started == sorted(started)  # type: ignore[type-var]


async def test_fifo_holds_within_the_most_extreme_priorities(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    high, low = [], []
    for _ in range(20):
        high.append(await qm.add_job("demo", QUICK, priority=PRIORITY_LIMIT))
        low.append(await qm.add_job("demo", QUICK, priority=-PRIORITY_LIMIT))
    async with worker(aredis, settings, "demo", concurrency=1):
        await wait_state(qm, low[-1], JobState.COMPLETED)
    assert events.started(high + low) == high + low


async def test_a_retried_job_keeps_its_priority(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    urgent = await qm.add_job("it-step", {"retry_once": True}, priority=5)
    first = await qm.add_job("it-step", {"sleep": 0.6})
    second = await qm.add_job("it-step", {"sleep": 0.1})
    async with worker(aredis, settings, "it-step", concurrency=1):
        await wait_state(qm, second, JobState.COMPLETED)
    # The retry falls due while `first` runs, then goes ahead of `second`.
    assert events.started([urgent, first, second]) == [urgent, first, urgent, second]
    assert (await qm.get_job(urgent)).priority == 5


async def test_a_delayed_job_starts_no_sooner_than_its_time(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    jid = await qm.add_job("demo", QUICK, delay=1.0)
    assert (await qm.get_job(jid)).state == JobState.DELAYED
    async with worker(aredis, settings, "demo"):
        job = await wait_state(qm, jid, JobState.COMPLETED)
    assert job.started_at is not None
    assert job.started_at >= job.created_at + timedelta(seconds=1.0)


async def test_a_job_due_at_run_at_then_competes_by_priority(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    run_at = in_(0.3)
    late = await qm.add_job("it-step", {}, run_at=run_at, priority=5)
    first = await qm.add_job("it-step", {"sleep": 0.6})
    second = await qm.add_job("it-step", {})
    assert (await qm.get_job(late)).state == JobState.DELAYED
    async with worker(aredis, settings, "it-step", concurrency=1):
        await wait_state(qm, second, JobState.COMPLETED)
    assert events.started([late, first, second]) == [first, late, second]
    started = (await qm.get_job(late)).started_at
    assert started is not None and started >= run_at.replace(microsecond=0)
    assert "waiting" in events.names(late)  # delayed → waiting is announced too


# -- pause and resume -----------------------------------------------------------------------


async def test_a_paused_running_job_holds_still_keeps_its_lease_and_finishes_after_resume(
    qm: QueueManager, aredis: Redis, redis_url: str, events: EventLog
) -> None:
    # A one-second lease, and a second worker whose heartbeat reaps expired leases: a paused
    # job whose lease went unrenewed would be taken back.
    settings = make_settings(redis_url, lease=1.0)
    jid = await qm.add_job("demo", {"steps": 5, "interval": 0.2})
    async with worker(aredis, settings, "demo"), worker(aredis, settings, "it-step"):
        await events.wait(lambda e: e.id == jid and (e.progress.current or 0) >= 1)
        assert await qm.pause_job(jid) == JobState.ACTIVE
        # It stops at its next progress report, which is announced with state paused.
        stopped = await events.wait_stopped(jid)
        leases = []
        for _ in range(20):
            await asyncio.sleep(0.1)
            job = await qm.get_job(jid)
            assert job.state == JobState.PAUSED
            assert job.progress == stopped.progress
            score = await aredis.zscore(keys.LEASES, jid)
            now = await redis_ms(aredis)
            assert score is not None, "the paused job's lease was taken back"
            # Renewed well before it runs out, not at the last millisecond.
            assert score - now >= settings.lease * 1000 / 4, (
                f"lease {score - now:.0f} ms from lapsing"
            )
            leases.append(score)
        assert max(leases) > leases[0]  # renewed, not just long
        assert job.attempts_made == 1
        assert await qm.resume_job(jid) == JobState.PAUSED
        done = await wait_state(qm, jid, JobState.COMPLETED)
    assert done.result["steps"] == 5 and done.attempts_made == 1
    names = events.names(jid)
    assert names.index("paused") < names.index("resumed") < names.index("completed")


async def test_a_paused_waiting_job_is_not_picked_up_until_resumed(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    held = await qm.add_job("demo", QUICK)
    assert await qm.pause_job(held) == JobState.WAITING
    later = await qm.add_job("demo", QUICK)
    async with worker(aredis, settings, "demo"):
        await wait_state(qm, later, JobState.COMPLETED)
        await asyncio.sleep(0.3)
        assert (await qm.get_job(held)).state == JobState.PAUSED
        assert "active" not in events.names(held)
        await qm.resume_job(held)
        await wait_state(qm, held, JobState.COMPLETED)
    assert events.names(held)[:3] == ["added", "paused", "resumed"]


async def test_a_delayed_job_paused_past_its_time_becomes_ready_on_resume(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    jid = await qm.add_job("demo", QUICK, delay=0.2)
    assert await qm.pause_job(jid) == JobState.DELAYED
    async with worker(aredis, settings, "demo"):
        await asyncio.sleep(0.6)
        assert (await qm.get_job(jid)).state == JobState.PAUSED
        assert await aredis.zscore(keys.DELAYED, jid) is None
        await qm.resume_job(jid)
        resumed = await events.wait_for(jid, "resumed")
        assert resumed.state == JobState.WAITING
        await wait_state(qm, jid, JobState.COMPLETED)


# -- abort ----------------------------------------------------------------------------------


async def test_removing_a_running_job_aborts_it_within_a_second(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    jid = await qm.add_job("demo", {"steps": 1, "interval": 30})
    after = await qm.add_job("demo", QUICK)
    async with worker(aredis, settings, "demo", concurrency=1):
        await events.wait_for(jid, "active")
        asked = asyncio.get_running_loop().time()
        assert await qm.remove_job(jid) == "requested"
        await events.wait_for(jid, "aborted", timeout=5.0)
        took = asyncio.get_running_loop().time() - asked
        await wait_state(qm, after, JobState.COMPLETED)  # its slot is free again
    assert took < 1.0, f"abort took {took:.2f}s"
    job = await qm.get_job(jid)
    assert job.state == JobState.ABORTED
    assert job.error is not None and job.error.type == "Aborted"
    assert await aredis.zscore(keys.LEASES, jid) is None


async def test_removing_a_paused_running_job_aborts_it_and_frees_its_slot(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    jid = await qm.add_job("demo", {"steps": 50, "interval": 0.02})
    after = await qm.add_job("demo", QUICK)
    async with worker(aredis, settings, "demo", concurrency=1):
        await events.wait_for(jid, "progress")
        await qm.pause_job(jid)
        await events.wait_stopped(jid)
        assert await qm.remove_job(jid) == "requested"
        assert (await events.wait_for(jid, "aborted", timeout=1.0)).state == JobState.ABORTED
        await wait_state(qm, after, JobState.COMPLETED)
    assert await aredis.zscore(keys.state("paused"), jid) is None


async def test_a_paused_running_job_handed_back_by_a_stopping_worker_stays_paused(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    jid = await qm.add_job("demo", {"steps": 3, "interval": 0.05})
    async with worker(aredis, settings, "demo"):
        await events.wait_for(jid, "progress")
        await qm.pause_job(jid)
        await events.wait_stopped(jid)
    job = await qm.get_job(jid)
    assert job.state == JobState.PAUSED and job.attempts_made == 0
    assert await aredis.zscore(keys.LEASES, jid) is None
    await qm.resume_job(jid)
    async with worker(aredis, settings, "demo"):
        done = await wait_state(qm, jid, JobState.COMPLETED)
    assert done.attempts_made == 1


async def test_aborting_an_unknown_id_leaves_nothing_to_kill_a_later_job_with_that_id(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    with pytest.raises(JobNotFound):
        await qm.remove_job("reused-id")
    assert await keys_naming(aredis, "reused-id") == []
    await qm.add_job("demo", {"steps": 2, "interval": 0.05}, job_id="reused-id")
    async with worker(aredis, settings, "demo"):
        job = await wait_state(qm, "reused-id", JobState.COMPLETED, JobState.ABORTED)
    assert job.state == JobState.COMPLETED


async def test_an_aborted_waiting_job_never_runs(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    dropped = await qm.add_job("demo", QUICK)
    kept = await qm.add_job("demo", QUICK)
    assert await qm.remove_job(dropped) == "aborted"
    assert (await events.wait_for(dropped, "aborted")).state == JobState.ABORTED
    async with worker(aredis, settings, "demo"):
        await wait_state(qm, kept, JobState.COMPLETED)
    job = await qm.get_job(dropped)
    assert job.state == JobState.ABORTED and job.attempts_made == 0
    assert "active" not in events.names(dropped)


async def test_purge_deletes_the_record_and_every_index_entry(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    queued = await qm.add_job("demo", QUICK, job_id="purge-queued")
    delayed = await qm.add_job("demo", QUICK, job_id="purge-delayed", delay=60)
    running = await qm.add_job("demo", {"steps": 1, "interval": 30}, job_id="purge-running")
    assert await qm.remove_job(queued, purge=True) == "purged"
    assert await qm.remove_job(delayed, purge=True) == "purged"
    async with worker(aredis, settings, "demo"):
        await events.wait_for(running, "active")
        assert await qm.remove_job(running, purge=True) == "requested"
        await events.wait_for(running, "aborted")
    for jid in (queued, delayed, running):
        assert await gone(qm, jid)
        assert await keys_naming(aredis, jid) == []


# -- dead letters and retry -----------------------------------------------------------------


async def test_retry_from_the_dead_letter_set_succeeds_once_the_cause_is_gone(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    jid = await qm.add_job("it-flaky")
    async with worker(aredis, settings, "it-flaky"):
        await wait_state(qm, jid, JobState.FAILED)
        [dead] = await qm.list_jobs(state="failed")
        assert dead.id == jid and dead.attempts_made == 2
        assert dead.error is not None and dead.error.message == "backend down"
        assert [e.attempt for e in dead.errors] == [1, 2]
        assert all(e.failed_at is not None for e in dead.errors)
        BROKEN["flaky"] = False
        assert await qm.retry_job(jid) == JobState.FAILED
        job = await wait_state(qm, jid, JobState.COMPLETED)
    assert job.result == "fine"
    assert job.attempts_made == 1  # a fresh count
    assert [e.message for e in job.errors] == ["backend down"] * 2  # history stays
    assert await qm.list_jobs(state="failed") == []
    assert "retried" in events.names(jid)


async def test_retry_failed_requeues_every_failed_job_of_the_type(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    ids = await qm.add_jobs("it-flaky", [{}] * 3)
    other = await qm.add_job("it-broken")
    async with worker(aredis, settings, "it-flaky", "it-broken"):
        for jid in [*ids, other]:
            await wait_state(qm, jid, JobState.FAILED)
        BROKEN["flaky"] = False
        assert sorted(await qm.retry_failed("it-flaky")) == sorted(ids)
        for jid in ids:
            assert (await wait_state(qm, jid, JobState.COMPLETED)).attempts_made == 1
    assert [job.id for job in await qm.list_jobs(state="failed")] == [other]


# -- retention and clean --------------------------------------------------------------------


async def test_only_the_newest_completed_records_are_kept(
    qm: QueueManager, aredis: Redis, redis_url: str
) -> None:
    ids = await qm.add_jobs("demo", [QUICK] * 5)
    await run_burst(aredis, make_settings(redis_url, keep_completed=2), "demo")
    kept = await qm.list_jobs(state="completed")
    assert sorted(job.id for job in kept) == sorted(ids[-2:])
    for jid in ids[:-2]:
        assert await gone(qm, jid)
        assert await keys_naming(aredis, jid) == []


async def test_default_retention_keeps_ten_completed_and_five_failed_per_type(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    done = await qm.add_jobs("demo", [QUICK] * 12)
    failed = await qm.add_jobs("it-broken", [{}] * 7)
    await run_burst(aredis, settings, "demo", "it-broken")
    assert {j.id for j in await qm.list_jobs(state="completed")} == set(done[-10:])
    assert {j.id for j in await qm.list_jobs(state="failed")} == set(failed[-5:])


async def test_completed_records_older_than_the_type_age_are_removed(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    old = await qm.add_job("it-short-lived")
    await run_burst(aredis, settings, "it-short-lived")
    await asyncio.sleep(0.6)  # past the type's keep_completed_age of 0.5 s
    new = await qm.add_job("it-short-lived")
    await run_burst(aredis, settings, "it-short-lived")
    assert await gone(qm, old)
    assert (await qm.get_job(new)).state == JobState.COMPLETED


async def test_clean_removes_only_records_older_than_asked(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    old = await qm.add_job("demo", QUICK)
    failed = await qm.add_job("it-broken")
    await run_burst(aredis, settings, "demo", "it-broken")
    await asyncio.sleep(0.5)
    new = await qm.add_job("demo", QUICK)
    await run_burst(aredis, settings, "demo")
    assert await qm.clean("completed", older_than=60, task_type="demo") == 0
    assert await qm.clean("completed", older_than=0.3, task_type="it-broken") == 0
    assert await qm.clean("completed", older_than=0.3) == 1
    assert await gone(qm, old)
    assert (await qm.get_job(new)).state == JobState.COMPLETED
    assert (await qm.get_job(failed)).state == JobState.FAILED
    assert await qm.clean("failed") == 1
    assert await gone(qm, failed)


# -- queue-level hold -----------------------------------------------------------------------


async def test_a_held_type_is_not_started_until_released_and_running_jobs_finish(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    running = await qm.add_job("it-step", {"sleep": 0.3})
    async with worker(aredis, settings, "it-step", "demo"):
        await events.wait_for(running, "active")
        await qm.hold("it-step")
        held = await qm.add_job("it-step", {})
        other = await qm.add_job("demo", QUICK)
        await wait_state(qm, running, JobState.COMPLETED)
        await wait_state(qm, other, JobState.COMPLETED)  # other types go on
        await asyncio.sleep(0.3)
        assert (await qm.get_job(held)).state == JobState.WAITING
        assert await qm.release("it-step") is True
        await wait_state(qm, held, JobState.COMPLETED)


async def test_a_hold_with_until_lapses_by_itself(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    until = in_(0.8)
    await qm.hold("it-step", until=until)
    jid = await qm.add_job("it-step", {})
    async with worker(aredis, settings, "it-step"):
        job = await wait_state(qm, jid, JobState.COMPLETED, timeout=WAIT)
    assert job.started_at is not None
    assert job.started_at >= until - timedelta(milliseconds=1)
    assert await aredis.exists(keys.hold("it-step")) == 0


async def test_a_burst_worker_does_not_wait_for_a_type_held_until_released(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    await qm.hold("it-step")
    held = await qm.add_job("it-step", {})
    done = await qm.add_job("demo", QUICK)
    await run_burst(aredis, settings, "it-step", "demo")
    assert (await qm.get_job(done)).state == JobState.COMPLETED
    assert (await qm.get_job(held)).state == JobState.WAITING

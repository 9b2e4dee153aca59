"""The worker against a real Redis: a job's life, retries and backoff, the errors that are and
are not retried, corrupt payloads, bad results, timeouts, and the order of a job's events."""

from __future__ import annotations

import asyncio
import json
import pickle
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from engine_helpers import WAIT, EventLog, wait_state, worker
from pydantic import BaseModel
from redis.asyncio import Redis

from jq import keys
from jq.errors import PermanentError, RetryLater
from jq.events import follow
from jq.models import JobState
from jq.queue import QueueManager
from jq.settings import Settings
from jq.tasks import UpdateProgress, task

# How often each (job id, kind) pair has run, for processors that change their mind.
RUNS: dict[tuple[str, str], int] = {}


class KindInput(BaseModel):
    kind: str
    delay: float = 0.0


class Strict(BaseModel):
    number: int


@task("it-raises", input=KindInput, attempts=3, backoff=0.0)
async def raises(*, id: str, data: KindInput, update_progress: UpdateProgress) -> str:
    """Fail in the way `kind` names; `retry-later` fails once, then succeeds."""
    runs = RUNS[(id, data.kind)] = RUNS.get((id, data.kind), 0) + 1
    if data.kind == "runtime":
        raise RuntimeError("a transient failure")
    if data.kind == "permanent":
        raise PermanentError("retrying cannot help")
    if data.kind == "validation":
        Strict.model_validate({"number": "not a number"})
    if data.kind == "retry-later" and runs == 1:
        raise RetryLater("come back later", data.delay)
    if data.kind == "odd-result":
        return {"when": datetime.now()}  # type: ignore[return-value]
    return "ok"


@task("it-slow", input=KindInput, attempts=2, backoff=0.0, timeout=0.2)
async def slow(*, id: str, data: KindInput, update_progress: UpdateProgress) -> str:
    """Outlast the type's 0.2 s timeout."""
    await asyncio.sleep(5)
    return "too late"


async def test_demo_job_goes_waiting_active_completed_with_progress_and_result(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    jid = await qm.add_job("demo", {"steps": 3, "interval": 0.01})
    assert (await qm.get_job(jid)).state == JobState.WAITING
    async with worker(aredis, settings, "demo"):
        await events.wait_for(jid, "completed")
    job = await qm.get_job(jid)
    assert job.state == JobState.COMPLETED
    assert job.progress.percentage == 100.0
    assert job.result["steps"] == 3
    assert job.attempts_made == 1
    assert job.started_at is not None and job.finished_at is not None
    states = [e.state for e in events.of(jid) if e.event != "progress"]
    assert states == [JobState.WAITING, JobState.ACTIVE, JobState.COMPLETED]


async def test_failing_job_fails_after_exactly_its_attempts_spaced_by_backoff(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    assert settings.backoff == 2.0
    jid = await qm.add_job("demo", {"steps": 2, "interval": 0, "fail_at": 1}, attempts=2)
    async with worker(aredis, settings, "demo"):
        await events.wait_for(jid, "failed")
    job = await qm.get_job(jid)
    assert job.state == JobState.FAILED
    assert job.attempts_made == 2
    assert [e.attempt for e in job.errors] == [1, 2]
    first, second = (e.failed_at for e in job.errors)
    assert first is not None and second is not None
    assert (second - first).total_seconds() >= settings.backoff
    assert job.started_at is not None  # the second attempt's start
    assert (job.started_at - first).total_seconds() >= settings.backoff
    assert events.names(jid).count("active") == 2
    assert events.names(jid).count("retrying") == 1
    assert job.error is not None and job.error.type == "DemoFailure"


async def test_ordinary_exception_is_retried_until_attempts_run_out(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    jid = await qm.add_job("it-raises", {"kind": "runtime"})
    async with worker(aredis, settings, "it-raises"):
        job = await wait_state(qm, jid, JobState.FAILED)
    assert job.attempts_made == 3
    assert [e.type for e in job.errors] == ["RuntimeError"] * 3


@pytest.mark.parametrize(
    ("kind", "error_type"),
    [("permanent", "PermanentError"), ("validation", "ValidationError")],
)
async def test_permanent_and_validation_errors_are_not_retried(
    qm: QueueManager, aredis: Redis, settings: Settings, kind: str, error_type: str
) -> None:
    jid = await qm.add_job("it-raises", {"kind": kind})
    async with worker(aredis, settings, "it-raises"):
        job = await wait_state(qm, jid, JobState.FAILED)
    assert job.attempts_made == 1
    assert job.error is not None and job.error.type == error_type


async def test_retry_later_sets_the_retry_delay_instead_of_the_backoff(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    # A 60 s backoff would outlast the wait below: only RetryLater's 0.5 s lets it finish.
    jid = await qm.add_job("it-raises", {"kind": "retry-later", "delay": 0.5}, backoff=60)
    async with worker(aredis, settings, "it-raises"):
        job = await wait_state(qm, jid, JobState.COMPLETED)
    assert job.attempts_made == 2
    failed_at = job.errors[0].failed_at
    assert failed_at is not None and job.started_at is not None
    assert (job.started_at - failed_at).total_seconds() >= 0.5 - 0.001


async def test_job_data_with_non_ascii_text_runs(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    # The claim script refuses payloads with non-ASCII bytes: jq's own must never have any.
    jid = await qm.add_job("it-raises", {"kind": "naïve café ✓ 日本"})
    async with worker(aredis, settings, "it-raises"):
        job = await wait_state(qm, jid, JobState.COMPLETED, JobState.FAILED)
    assert job.state == JobState.COMPLETED, job.error
    assert job.data["kind"] == "naïve café ✓ 日本"


CORRUPT = {
    "garbage bytes": b"\xff\xfe\x00\x81 not a job \xc3",
    "wrong types": json.dumps({"t": 1, "f": "demo", "a": [], "k": {"steps": "many"}}),
    "not an object": b"[1, 2, 3]",
    "a pickle": pickle.dumps({"t": 1, "f": "demo", "a": (), "k": {}, "et": 0}),
}


@pytest.mark.parametrize("payload", CORRUPT.values(), ids=list(CORRUPT))
async def test_corrupt_payload_fails_its_job_and_the_worker_runs_the_next(
    qm: QueueManager, aredis: Redis, settings: Settings, payload: bytes | str
) -> None:
    bad = await qm.add_job("demo", {"steps": 1, "interval": 0})
    good = await qm.add_job("demo", {"steps": 1, "interval": 0})
    await aredis.set(keys.arq_job(bad), payload)
    async with worker(aredis, settings, "demo"):
        assert (await wait_state(qm, good, JobState.COMPLETED)).result["steps"] == 1
        job = await wait_state(qm, bad, JobState.FAILED)
    assert job.attempts_made == 1  # a payload does not mend itself: no retry
    assert job.error is not None and job.error.type == "CorruptJob"
    assert "payload" in job.error.message or "data" in job.error.message


async def test_result_that_is_not_json_fails_the_job_with_a_clear_error(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    jid = await qm.add_job("it-raises", {"kind": "odd-result"})
    async with worker(aredis, settings, "it-raises"):
        job = await wait_state(qm, jid, JobState.FAILED)
    assert job.error is not None
    assert "result is not JSON" in job.error.message
    assert job.attempts_made == 1


async def test_job_timeout_is_retried_then_fails(
    qm: QueueManager, aredis: Redis, settings: Settings
) -> None:
    jid = await qm.add_job("it-slow", {"kind": "slow"})
    async with worker(aredis, settings, "it-slow"):
        job = await wait_state(qm, jid, JobState.FAILED)
    assert job.attempts_made == 2
    assert [e.message for e in job.errors] == ["timed out after 0.2s"] * 2


async def test_events_of_a_job_arrive_with_strictly_increasing_rev(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    data = {"steps": 5, "interval": 0.01, "fail_at": 4}
    jid = await qm.add_job("demo", data, attempts=2, backoff=0.1)
    async with worker(aredis, settings, "demo"):
        await events.wait_for(jid, "failed")
    revs = [e.rev for e in events.of(jid)]
    assert len(revs) >= 10
    assert all(a < b for a, b in pairwise(revs))
    assert revs[-1] == (await qm.get_job(jid)).rev


async def test_follow_started_mid_job_never_yields_an_event_older_than_its_snapshot(
    qm: QueueManager, aredis: Redis, settings: Settings, events: EventLog
) -> None:
    jid = await qm.add_job("demo", {"steps": 10, "interval": 0.05})
    seen: list[Any] = []
    async with worker(aredis, settings, "demo"):
        await events.wait(lambda e: e.id == jid and (e.progress.current or 0) >= 3)
        async with asyncio.timeout(WAIT):
            async for event in follow(aredis, [jid]):
                seen.append(event)
    snapshot, *rest = seen
    assert snapshot.event == "snapshot" and snapshot.state == JobState.ACTIVE
    assert (snapshot.progress.current or 0) >= 3
    assert rest, "the follower heard nothing after its snapshot"
    assert all(e.rev > snapshot.rev for e in rest)
    assert all((e.progress.current or 0) >= (snapshot.progress.current or 0) for e in rest)
    assert rest[-1].event == "completed"

"""Records someone else mangled fail their own job, never the script, the worker or a reader."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from jq import keys
from jq.events import decode_event
from jq.models import JobState
from jq.queue import QueueManager
from jq.settings import Settings
from jq.tasks import get_task_type
from jq.worker import Worker


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("attempts", "many", "attempts"),
        ("max_attempts", "lots", "max_attempts"),
        ("backoff", "soon", "backoff"),
        ("timeout", "never", "timeout"),
    ],
)
async def test_a_job_with_a_mangled_number_fails_and_the_next_job_runs(
    redis_url: str, field: str, value: str, named: str
) -> None:
    settings = Settings(redis_url=redis_url)
    qm = await QueueManager.connect(settings)
    bad = await qm.add_job("demo", {"steps": 1, "interval": 0})
    good = await qm.add_job("demo", {"steps": 1, "interval": 0})
    await qm.redis.hset(keys.job(bad), field, value)

    await Worker(qm.redis, settings, {"demo": get_task_type("demo")}, burst=True).run()

    failed = await qm.get_job(bad)
    assert failed.state is JobState.FAILED
    assert failed.error is not None and named in failed.error.message
    assert (await qm.get_job(good)).state is JobState.COMPLETED
    await qm.close()


async def test_non_utf8_bytes_in_a_record_do_not_break_reading_it(redis_url: str) -> None:
    qm = await QueueManager.connect(Settings(redis_url=redis_url))
    jid = await qm.add_job("demo", {})
    raw = Redis.from_url(redis_url)
    await raw.hset(keys.job(jid), "worker", b"\xff\xfe")
    await raw.aclose()
    assert [job.id for job in await qm.list_jobs()] == [jid]
    await qm.close()


def test_an_event_that_does_not_parse_is_dropped_not_raised() -> None:
    assert decode_event('{"event":"progress","id":"1","progress":{oops') is None

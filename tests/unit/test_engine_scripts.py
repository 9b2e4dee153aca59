"""The Lua scripts' rules, fast, against fakeredis (the real server runs them in integration)."""

from __future__ import annotations

import json

import pytest
from redis.asyncio import Redis

from jq import keys
from jq.errors import JobNotFound, UsageError
from jq.models import JobState
from jq.queue import QueueManager
from jq.settings import Settings


@pytest.fixture
def qm(fake_redis: Redis) -> QueueManager:
    return QueueManager(fake_redis, Settings(redis_url="redis://unused"))


async def claim(qm: QueueManager, slots: int, worker: str = "w1") -> list[list[str]]:
    reply = await qm.scripts.claim(args=[worker, 60_000, "demo", slots])
    return [reply[i : i + 8] for i in range(1, len(reply), 8)]


async def test_jobs_are_claimed_by_priority_then_fifo(qm: QueueManager) -> None:
    low = await qm.add_job("demo", {}, priority=-1)
    first = await qm.add_job("demo", {})
    high = await qm.add_job("demo", {}, priority=7)
    second = await qm.add_job("demo", {})
    order = [job[0] for job in await claim(qm, 10)]
    assert order == [high, first, second, low]


async def test_claim_takes_no_more_than_the_free_slots(qm: QueueManager) -> None:
    await qm.add_jobs("demo", [{}] * 5)
    assert len(await claim(qm, 2)) == 2
    assert len(await qm.list_jobs(JobState.WAITING)) == 3


async def test_a_claimed_job_carries_arqs_payload_and_a_lease_token(qm: QueueManager) -> None:
    jid = await qm.add_job("demo", {"steps": 4})
    [(got, jtype, payload, attempt, _max, _backoff, _timeout, token)] = await claim(qm, 1)
    assert (got, jtype, attempt, token) == (jid, "demo", 1, "w1/1")
    assert json.loads(payload)["f"] == "demo"
    assert json.loads(payload)["k"]["steps"] == 4
    assert await qm.redis.zscore(keys.LEASES, jid) is not None


async def test_a_delayed_job_is_not_claimed_before_its_time(qm: QueueManager) -> None:
    jid = await qm.add_job("demo", {}, delay=60)
    assert (await qm.get_job(jid)).state is JobState.DELAYED
    assert await claim(qm, 5) == []


async def test_finish_with_a_stale_token_is_discarded(qm: QueueManager) -> None:
    jid = await qm.add_job("demo", {})
    await claim(qm, 1)
    late = await qm.scripts.finish(args=[jid, "other/1", "completed", "{}", 0, -1, 0, ""])
    assert late == 0
    assert (await qm.get_job(jid)).state is JobState.ACTIVE


async def test_completed_jobs_beyond_the_retention_count_are_removed(qm: QueueManager) -> None:
    ids = await qm.add_jobs("demo", [{}] * 4)
    for jid, *_rest, token in await claim(qm, 4):
        await qm.scripts.finish(args=[jid, token, "completed", '{"ok":1}', 0, 2, 0, ""])
    left = [job.id for job in await qm.list_jobs(JobState.COMPLETED)]
    assert sorted(left) == sorted(ids[2:])
    assert not await qm.redis.exists(keys.job(ids[0]))


async def test_pausing_a_waiting_job_takes_it_out_of_the_queue(qm: QueueManager) -> None:
    jid = await qm.add_job("demo", {})
    assert await qm.pause_job(jid) is JobState.WAITING
    assert await claim(qm, 5) == []
    await qm.resume_job(jid)
    assert [job[0] for job in await claim(qm, 5)] == [jid]


async def test_aborting_an_unknown_id_writes_nothing(qm: QueueManager) -> None:
    with pytest.raises(JobNotFound):
        await qm.remove_job("nope")
    assert await qm.redis.keys("*") == []


async def test_aborting_a_waiting_job_ends_it_and_it_never_runs(qm: QueueManager) -> None:
    jid = await qm.add_job("demo", {})
    assert await qm.remove_job(jid) == "aborted"
    assert (await qm.get_job(jid)).state is JobState.ABORTED
    assert await claim(qm, 5) == []
    assert not await qm.redis.exists(keys.arq_job(jid))


async def test_aborting_a_running_job_flags_it_for_its_worker(qm: QueueManager) -> None:
    jid = await qm.add_job("demo", {})
    [(_, *_rest, token)] = await claim(qm, 1)
    assert await qm.remove_job(jid) == "requested"
    progress = await qm.scripts.progress(args=[jid, token, '{"percentage":5}'])
    assert progress == "abort"


async def test_invalid_data_is_rejected_before_anything_is_written(qm: QueueManager) -> None:
    with pytest.raises(UsageError, match="steps"):
        await qm.add_job("demo", {"steps": -3})
    assert await qm.redis.keys("*") == []


async def test_a_duplicate_job_id_is_refused(qm: QueueManager) -> None:
    await qm.add_job("demo", {}, job_id="same")
    with pytest.raises(UsageError, match="same"):
        await qm.add_job("demo", {}, job_id="same")


async def test_oversized_data_is_rejected_with_the_setting_named(fake_redis: Redis) -> None:
    small = QueueManager(fake_redis, Settings(redis_url="redis://unused", max_data_bytes=10))
    with pytest.raises(UsageError, match="JQ_MAX_DATA_BYTES"):
        await small.add_job("demo", {"steps": 3})


async def test_every_change_bumps_the_revision(qm: QueueManager) -> None:
    jid = await qm.add_job("demo", {})
    revs = [(await qm.get_job(jid)).rev]
    await qm.pause_job(jid)
    revs.append((await qm.get_job(jid)).rev)
    await qm.resume_job(jid)
    revs.append((await qm.get_job(jid)).rev)
    assert revs == sorted(set(revs))


async def test_a_bulk_add_scans_installed_entry_points_at_most_once(
    qm: QueueManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    from jq import tasks

    calls = []
    real = importlib.metadata.entry_points

    def counting(**kwargs: object) -> object:
        calls.append(kwargs)
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.metadata, "entry_points", counting)
    monkeypatch.setattr(tasks, "_entry_points_loaded", False)
    await qm.add_jobs("demo", [{}] * 200)
    assert len(calls) == 1


async def test_a_batch_with_an_existing_id_writes_none_of_its_jobs(qm: QueueManager) -> None:
    await qm.add_job("demo", {}, job_id="taken")
    with pytest.raises(UsageError, match="taken"):
        await qm.add_jobs("demo", [{}, {}, {}], job_ids=["a", "taken", "c"])
    assert [job.id for job in await qm.list_jobs()] == ["taken"]


async def test_the_same_id_twice_in_one_call_is_refused(qm: QueueManager) -> None:
    with pytest.raises(UsageError, match="twice"):
        await qm.add_jobs("demo", [{}, {}], job_ids=["x", "x"])
    assert await qm.redis.keys("*") == []

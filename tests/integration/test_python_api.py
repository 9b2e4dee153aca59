"""The Python API a web app uses: add from code, follow updates by callback, arq compatibility."""

from __future__ import annotations

import asyncio

from jq import keys
from jq.models import Event
from jq.queue import QueueManager
from jq.settings import Settings
from jq.tasks import get_task_type
from jq.worker import Worker


async def test_on_task_update_sees_every_event_of_a_job_through_completion(redis_url: str) -> None:
    settings = Settings(redis_url=redis_url)
    qm = await QueueManager.connect(settings)
    seen: list[tuple[str, str, Event]] = []
    done = asyncio.Event()

    def callback(task_type: str, job_id: str, event: Event) -> None:
        seen.append((task_type, job_id, event))
        if event.event == "completed":
            done.set()

    listener = qm.on_task_update(callback)
    await asyncio.sleep(0.1)  # let the subscription land before the job is added
    jid = await qm.add_job("demo", {"steps": 3, "interval": 0})
    worker = Worker(qm.redis, settings, {"demo": get_task_type("demo")}, burst=True)
    await worker.run()
    await asyncio.wait_for(done.wait(), 5)
    listener.cancel()
    names = [event.event for _, _, event in seen]
    assert names == ["added", "active", "progress", "progress", "progress", "completed"]
    assert {(t, j) for t, j, _ in seen} == {("demo", jid)}
    await qm.close()


async def test_arq_reads_a_queued_jq_job(redis_url: str) -> None:
    from arq.jobs import Job as ArqJob

    qm = await QueueManager.connect(Settings(redis_url=redis_url))
    jid = await qm.add_job("demo", {"steps": 2})
    info = await ArqJob(jid, qm.redis, _deserializer=_json_loads).info()
    assert info is not None
    assert (info.function, info.kwargs["steps"]) == ("demo", 2)
    assert await qm.redis.exists(keys.arq_job(jid))
    await qm.close()


def _json_loads(raw: bytes) -> object:
    import json

    return json.loads(raw)

"""The client side of jq: `QueueManager` adds, reads, lists and controls jobs.

Each write is one Lua script (src/jq/lua/), so a job's record, its indexes, arq's payload key
and the event announcing the change are written together or not at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from jq import keys
from jq.errors import JobNotFound, UsageError
from jq.models import Event, Job, JobState, dt_to_ms
from jq.scripts import Scripts, flat
from jq.settings import Settings, load_settings
from jq.tasks import TaskType, get_task_type, load_task_types

ADD_BATCH = 1000
PRIORITY_LIMIT = 1_000_000  # ready-queue scores stay exact only within it (common.lua)
LIST_ORDER = (
    JobState.ACTIVE,
    JobState.PAUSED,
    JobState.WAITING,
    JobState.DELAYED,
    JobState.FAILED,
    JobState.COMPLETED,
    JobState.ABORTED,
)


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def arq_payload(task_type: str, data: Mapping[str, Any], enqueued_ms: int) -> bytes:
    """The job as arq stores it at `arq:job:<id>` (arq's format, JSON instead of pickle)."""
    from arq.jobs import serialize_job

    return serialize_job(task_type, (), dict(data), None, enqueued_ms, serializer=_dumps)


def validation_message(task_type: str, exc: ValidationError) -> str:
    """One line naming the first invalid field of a task's data."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "data"
    return f"invalid data for {task_type}: {field}: {err['msg']}"


def task_type(name: str, settings: Settings) -> TaskType:
    """The registered task type `name`, loading processors (and settings.imports) first."""
    load_task_types(settings.imports)
    return get_task_type(name)


def validate(
    name: str, data: Mapping[str, Any] | BaseModel | None, settings: Settings
) -> dict[str, Any]:
    """Job data validated against the type's model, as JSON-ready values; needs no Redis.

    UsageError names the first bad field, or the size limit if the data is too large.
    """
    tt = task_type(name, settings)
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    try:
        clean: dict[str, Any] = tt.validate(dict(data or {})).model_dump(mode="json")
    except ValidationError as exc:
        raise UsageError(validation_message(name, exc)) from None
    size = len(_dumps(clean))
    if size > settings.max_data_bytes:
        raise UsageError(
            f"job data is {size} bytes; the limit is {settings.max_data_bytes} (JQ_MAX_DATA_BYTES)"
        )
    return clean


async def read_jobs(redis: Redis, job_ids: list[str]) -> list[Job | None]:
    """The jobs in order, in one round trip; None where an id is unknown or its record corrupt."""
    async with redis.pipeline(transaction=False) as pipe:
        for jid in job_ids:
            pipe.hgetall(keys.job(jid))
        rows = await pipe.execute()
    return [decode_job(row) for row in rows]


def decode_job(row: dict[str, str]) -> Job | None:
    """The job in a `jq:job:<id>` hash, or None for an empty or corrupt one."""
    if not row:
        return None
    try:
        return Job.from_hash(row)
    except ValueError:
        return None


class QueueManager:
    """Add, inspect and control jobs; async, one per Redis client."""

    def __init__(self, redis: Redis, settings: Settings | None = None) -> None:
        self.redis = redis
        self.settings = settings or load_settings()
        self.scripts = Scripts(redis)

    @classmethod
    async def connect(cls, settings: Settings | None = None) -> QueueManager:
        """Connect to the configured Redis (starting the embedded one if needed)."""
        from jq.connection import connect

        settings = settings or load_settings()
        return cls(await connect(settings), settings)

    async def close(self) -> None:
        await self.redis.aclose()

    async def __aenter__(self) -> QueueManager:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- adding ------------------------------------------------------------------------------

    def task_type(self, name: str) -> TaskType:
        """The registered task type `name` (loading processors on first use)."""
        return task_type(name, self.settings)

    def validate(self, name: str, data: Mapping[str, Any] | BaseModel | None) -> dict[str, Any]:
        """Validate job data against the type's model; see `validate`."""
        return validate(name, data, self.settings)

    async def add_job(
        self,
        task_type: str,
        data: Mapping[str, Any] | BaseModel | None = None,
        *,
        job_id: str | None = None,
        priority: int = 0,
        delay: float | None = None,
        run_at: datetime | None = None,
        attempts: int | None = None,
        backoff: float | None = None,
    ) -> str:
        """Validate and enqueue one job; returns its id."""
        ids = await self.add_jobs(
            task_type,
            [data],
            job_ids=[job_id] if job_id else None,
            priority=priority,
            delay=delay,
            run_at=run_at,
            attempts=attempts,
            backoff=backoff,
        )
        return ids[0]

    async def add_jobs(
        self,
        task_type: str,
        items: Iterable[Mapping[str, Any] | BaseModel | None],
        *,
        job_ids: list[str] | None = None,
        priority: int = 0,
        delay: float | None = None,
        run_at: datetime | None = None,
        attempts: int | None = None,
        backoff: float | None = None,
    ) -> list[str]:
        """Validate every item, then enqueue them in batches; returns their ids in order.

        All items are validated before anything is written. A job id that already exists is
        a UsageError, and its batch (ADD_BATCH jobs) writes nothing; earlier batches of a
        call that large are already in.
        """
        tt = self.task_type(task_type)
        datas = [self.validate(task_type, item) for item in items]
        if job_ids is not None and len(job_ids) != len(datas):
            raise UsageError("job_ids must match the items one for one")
        if not -PRIORITY_LIMIT <= priority <= PRIORITY_LIMIT:
            raise UsageError(f"priority must be between -{PRIORITY_LIMIT} and {PRIORITY_LIMIT}")
        if delay is not None and delay < 0:
            raise UsageError("delay must not be negative")
        for jid in job_ids or ():
            if not jid or len(jid) > 200 or any(c.isspace() for c in jid):
                raise UsageError(f"invalid job id {jid!r}: 1-200 characters, no spaces")
        if job_ids is not None and len(set(job_ids)) != len(job_ids):
            raise UsageError("the same job id is given twice")
        opts = tt.options
        if attempts is not None and attempts < 1:
            raise UsageError("attempts must be at least 1")
        max_attempts = attempts or opts.attempts or self.settings.attempts
        back = (
            backoff
            if backoff is not None
            else (opts.backoff if opts.backoff is not None else self.settings.backoff)
        )
        timeout = opts.timeout or self.settings.timeout
        run_at_ms = dt_to_ms(run_at) if run_at is not None else 0
        delay_ms = int(delay * 1000) if delay else 0
        now_ms = int(time.time() * 1000)
        ids: list[str] = []
        for start in range(0, len(datas), ADD_BATCH):
            chunk = datas[start : start + ADD_BATCH]
            args: list[Any] = [len(chunk)]
            for i, data in enumerate(chunk):
                jid = job_ids[start + i] if job_ids else ""
                args += flat(
                    jid,
                    task_type,
                    json.dumps(data),
                    arq_payload(task_type, data, now_ms),
                    priority,
                    max_attempts,
                    back,
                    timeout,
                    run_at_ms,
                    delay_ms,
                )
            added = await self.scripts.add(args=args)
            if added and added[0] == "":
                raise UsageError(f"a job with id {added[1]} already exists")
            ids += added
        return ids

    # -- reading -----------------------------------------------------------------------------

    async def get_job(self, job_id: str) -> Job:
        """The job `job_id`; JobNotFound if Redis does not hold it."""
        job = (await self.get_jobs([job_id]))[0]
        if job is None:
            raise JobNotFound(job_id)
        return job

    async def get_jobs(self, job_ids: list[str]) -> list[Job | None]:
        """The jobs in order, None where an id is unknown or its record is unreadable."""
        return await read_jobs(self.redis, job_ids)

    async def list_jobs(
        self,
        state: JobState | str | None = None,
        task_type: str | None = None,
        *,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Job]:
        """Jobs from jq's state index, newest change first, one page at a time."""
        states = [JobState(state)] if state else list(LIST_ORDER)
        end = offset + limit - 1
        async with self.redis.pipeline(transaction=False) as pipe:
            for s in states:
                pipe.zrevrange(keys.state(s, task_type), 0, end, withscores=True)
            pages = await pipe.execute()
        merged = sorted(
            ((score, jid) for page in pages for jid, score in page), key=lambda p: -p[0]
        )[offset : offset + limit]
        jobs = await self.get_jobs([jid for _, jid in merged])
        return [job for job in jobs if job is not None]

    async def known_types(self) -> list[str]:
        """Every task type that has had a job in this Redis."""
        return sorted(await self.redis.smembers(keys.TYPES))  # type: ignore[misc]

    # -- control -----------------------------------------------------------------------------

    async def remove_job(self, job_id: str, *, purge: bool = False) -> str:
        """Abort a job: 'aborted', 'requested' (its worker cancels it), 'ended' or 'purged'."""
        reply = await self.scripts.abort(args=[job_id, "1" if purge else "0"])
        if reply is None:
            raise JobNotFound(job_id)
        return str(reply[1])

    async def pause_job(self, job_id: str) -> JobState:
        """Pause a waiting, delayed or running job; returns the state it had."""
        return await self._control(
            self.scripts.pause,
            job_id,
            "pause",
            {JobState.WAITING, JobState.DELAYED, JobState.ACTIVE, JobState.PAUSED},
        )

    async def resume_job(self, job_id: str) -> JobState:
        """Resume a paused job; returns the state it had."""
        return await self._control(self.scripts.resume, job_id, "resume", {JobState.PAUSED})

    async def retry_job(self, job_id: str) -> JobState:
        """Requeue a failed (dead-letter) or aborted job with a fresh attempt count."""
        job = await self.get_job(job_id)
        payload = arq_payload(job.type, job.data, int(time.time() * 1000))
        return await self._control(
            self.scripts.retry, job_id, "retry", {JobState.FAILED, JobState.ABORTED}, payload
        )

    async def retry_failed(self, task_type: str | None = None) -> list[str]:
        """Requeue every job in the dead-letter set (of one type); returns their ids."""
        ids: list[str] = await self.redis.zrange(keys.state(JobState.FAILED, task_type), 0, -1)
        retried = []
        for jid in ids:
            try:
                await self.retry_job(jid)
            except (JobNotFound, UsageError):
                continue
            retried.append(jid)
        return retried

    async def _control(
        self, script: Any, job_id: str, verb: str, allowed: set[JobState], *extra: Any
    ) -> JobState:
        old = await script(args=[job_id, *extra])
        if old is None:
            raise JobNotFound(job_id)
        if JobState(old) not in allowed:
            raise UsageError(f"cannot {verb} job {job_id}: it is {old}")
        return JobState(old)

    async def clean(
        self,
        state: JobState | str,
        *,
        older_than: float | None = None,
        task_type: str | None = None,
    ) -> int:
        """Delete the records of ended jobs in `state`; returns how many."""
        state = JobState(state)
        if state not in (JobState.COMPLETED, JobState.FAILED, JobState.ABORTED):
            raise UsageError(f"clean takes completed, failed or aborted, not {state}")
        total = 0
        while True:
            n = int(
                await self.scripts.clean(
                    args=flat(state, task_type, int((older_than or 0) * 1000), 1000)
                )
            )
            total += n
            if n < 1000:
                return total

    async def hold(self, task_type: str, until: datetime | None = None) -> None:
        """Stop workers starting jobs of `task_type` (until `until`, or until released)."""
        await self.redis.set(keys.hold(task_type), dt_to_ms(until) if until else 0)

    async def release(self, task_type: str) -> bool:
        """Lift a hold; False if there was none."""
        removed = await self.redis.delete(keys.hold(task_type))
        await self.redis.publish(keys.WAKE, task_type)
        return bool(removed)

    # -- events ------------------------------------------------------------------------------

    def on_task_update(self, callback: Callable[[str, str, Event], Awaitable[None] | None]) -> Any:
        """Call `callback(task_type, job_id, event)` for every job event; returns the task."""
        from jq.events import subscribe_all

        return subscribe_all(self.redis, callback)

    async def stats(self) -> dict[str, Any]:
        """Per task type: counts by state, hold, jobs/min; and the workers alive."""
        from jq.stats import collect

        return await collect(self.redis, await self.known_types())

"""The worker: claims jobs in priority order, runs their processors, and reports every outcome.

Idle workers sleep until a wake-up on `jq:wake` (no polling); each running job holds a lease
that a heartbeat renews, so a crashed worker's jobs run again elsewhere within seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis
from redis.exceptions import ReadOnlyError, RedisError, ResponseError

from jq import keys
from jq.errors import PermanentError, RetryLater
from jq.models import Progress
from jq.scripts import Scripts, flat
from jq.settings import Settings
from jq.tasks import TaskType, get_task_type, load_task_types, shutdown_hooks

log = logging.getLogger("jq.worker")

HEARTBEAT = 1.0  # seconds between lease renewals and reaping; bounds abort latency too
RECONNECT_MAX = 10.0  # seconds, the longest wait between attempts to reach Redis again


class CorruptJob(Exception):
    """Raised when a job's payload in Redis cannot be decoded or validated."""


class _Stop(Exception):
    """Why a job's task was cancelled by the worker itself, not by the processor."""


@dataclass
class Running:
    """A job this worker holds."""

    id: str
    type: str
    token: str
    attempt: int
    max_attempts: int
    backoff: float
    timeout: float | None
    payload: str
    task: asyncio.Task[None] | None = None
    stop_reason: str | None = None  # 'aborted', 'lost' or 'requeue' once the worker cancels it
    resumed: asyncio.Event = field(default_factory=asyncio.Event)
    progress: Progress = field(default_factory=Progress)


def retry_delay(backoff: float, attempt: int) -> float:
    """Exponential backoff: `backoff` seconds after the first attempt, doubling after each."""
    return float(backoff * 2 ** (attempt - 1))


def error_json(exc: BaseException, attempt: int, message: str | None = None) -> str:
    """The JSON stored for a failed attempt."""
    now = time.time()
    # To the millisecond, like every other time jq keeps: backoff gaps are often under a second.
    failed_at = (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    )
    return json.dumps(
        {
            "type": type(exc).__name__,
            "message": message or str(exc) or type(exc).__name__,
            "attempt": attempt,
            "failed_at": failed_at,
        }
    )


def decode_payload(payload: str, expected_type: str, task_type: TaskType) -> BaseModel:
    """arq's job payload (JSON) to the task's validated input; CorruptJob if it is not that."""
    from arq.jobs import deserialize_job_raw

    if not payload:
        # The claim script hands over "" for a missing payload or one that is not ASCII JSON.
        raise CorruptJob("job payload is missing or is not JSON text (binary, e.g. a pickle)")
    try:
        function, _args, kwargs, _try, _enqueued = deserialize_job_raw(
            payload.encode(), deserializer=json.loads
        )
    except Exception as exc:
        raise CorruptJob(f"job payload is not a valid JSON arq job ({len(payload)} bytes)") from exc
    if function != expected_type or not isinstance(kwargs, dict):
        raise CorruptJob(f"job payload names {function!r}, not {expected_type!r}")
    try:
        return task_type.validate(kwargs)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "data"
        raise CorruptJob(f"job data fails validation: {where}: {err['msg']}") from exc


def result_json(result: Any) -> str:
    """A processor's return value as JSON; TypeError if it is not JSON-serialisable."""
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    return json.dumps(result)


class Worker:
    """Runs jobs of the given task types until stopped (or, in burst mode, until none are left)."""

    def __init__(
        self,
        redis: Redis,
        settings: Settings,
        task_types: dict[str, TaskType],
        *,
        concurrency: int | None = None,
        burst: bool = False,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.types = task_types
        self.slots = {
            name: concurrency or tt.options.concurrency or settings.concurrency
            for name, tt in task_types.items()
        }
        self.burst = burst
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_ms = int(settings.lease * 1000)
        # Renew well inside the lease, however short it is configured, so that no lease
        # lapses between two heartbeats (any worker's reaper would take the job back).
        self.heartbeat = min(HEARTBEAT, settings.lease / 3)
        self.scripts = Scripts(redis)
        self.running: dict[str, Running] = {}
        self.stopping = False
        self.started = time.time()
        self.counts = {"completed": 0, "failed": 0, "retried": 0, "aborted": 0}
        self._wake = asyncio.Event()
        self._next_due: float | None = None
        self._redis_down = False
        self._redis_back = asyncio.Event()
        self._redis_back.set()
        self._reap_after = 0.0  # monotonic time before which this worker takes back no jobs

    # -- the main loop -------------------------------------------------------------------------

    async def run(self) -> None:
        """Claim and run jobs until `stop()` (or, with burst, until there is nothing left)."""
        log.info("worker %s: %s", self.id, ", ".join(f"{t} x{n}" for t, n in self.slots.items()))
        background = [
            asyncio.create_task(self._listen(), name="jq-listen"),
            asyncio.create_task(self._heartbeat(), name="jq-heartbeat"),
        ]
        try:
            while not self.stopping:
                self._wake.clear()
                try:
                    claimed = await self._claim()
                except RedisError as exc:
                    await self._redis_trouble(exc)
                    continue
                if claimed:
                    continue
                if self.burst and not self.running and not await self._anything_pending():
                    break
                await self._sleep()
            await self._drain()
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            with suppress(RedisError):
                await self.redis.zrem(keys.WORKERS, self.id)
                await self.redis.delete(keys.worker(self.id))
        log.info(
            "worker %s stopped: %s",
            self.id,
            ", ".join(f"{n} {k}" for k, n in self.counts.items()),
        )

    async def _claim(self) -> int:
        free = [
            (t, n - sum(1 for r in self.running.values() if r.type == t))
            for t, n in self.slots.items()
        ]
        free = [(t, n) for t, n in free if n > 0]
        if not free:
            return 0
        args: list[Any] = [self.id, self.lease_ms]
        for t, n in free:
            args += [t, n]
        reply = await self.scripts.claim(args=args)
        # Only a round trip proves Redis is back: with every slot busy there is none.
        self._redis_recovered()
        due = float(reply[0])
        self._next_due = due / 1000 if due >= 0 else None
        for i in range(1, len(reply), 8):
            jid, jtype, payload, attempt, max_attempts, backoff, timeout, token = reply[i : i + 8]
            job = Running(
                id=jid,
                type=jtype,
                token=token,
                attempt=int(attempt),
                max_attempts=int(max_attempts),
                backoff=float(backoff or 0),
                timeout=float(timeout) if timeout else None,
                payload=payload,
            )
            self.running[jid] = job
            job.task = asyncio.create_task(self._execute(job), name=f"jq-job-{jid}")
        return (len(reply) - 1) // 8

    async def _sleep(self) -> None:
        timeout = 1.0
        if self._next_due is not None:
            timeout = min(timeout, max(0.0, self._next_due - time.time()))
        with suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _anything_pending(self) -> bool:
        async with self.redis.pipeline(transaction=False) as pipe:
            for t in self.slots:
                pipe.zcard(keys.queue(t))
                pipe.zcard(keys.state("delayed", t))
                pipe.get(keys.hold(t))
            replies = await pipe.execute()
        # Jobs of a type held until released ("0") cannot run before someone acts: a burst
        # worker that waited for them would never end. A hold with an end time is waited out.
        return any(
            (queued or delayed) and hold != "0"
            for queued, delayed, hold in zip(
                replies[::3], replies[1::3], replies[2::3], strict=True
            )
        )

    def stop(self, *, now: bool = False) -> None:
        """Stop taking jobs; running ones get the grace period, or are handed back at once."""
        if self.stopping and not now:
            now = True
        self.stopping = True
        self._wake.set()
        if now:
            self._hand_back_all()

    async def _drain(self) -> None:
        if self.running:
            log.info(
                "stopping: waiting up to %.0fs for %d running job(s)",
                self.settings.grace,
                len(self.running),
            )
            tasks = [r.task for r in self.running.values() if r.task]
            _done, pending = await asyncio.wait(tasks, timeout=self.settings.grace)
            if pending:
                self._hand_back_all()
                await asyncio.wait(pending)

    def _hand_back_all(self) -> None:
        for job in list(self.running.values()):
            self._cancel(job, "requeue")

    def _cancel(self, job: Running, reason: str) -> None:
        if job.stop_reason is None and job.task is not None and not job.task.done():
            job.stop_reason = reason
            job.task.cancel()

    # -- one job -------------------------------------------------------------------------------

    async def _execute(self, job: Running) -> None:
        started = time.monotonic()
        outcome, payload, delay = "failed", "", 0.0
        try:
            outcome, payload, delay = await self._attempt(job)
        finally:
            try:
                await self._finish(job, outcome, payload, delay)
            finally:
                self.running.pop(job.id, None)
                self._wake.set()
        took = time.monotonic() - started
        what = {"retry": "failed", "requeue": "handed back", "lost": "lost"}.get(outcome, outcome)
        detail = f", retrying in {delay:.1f}s" if outcome == "retry" else ""
        if outcome in ("failed", "retry"):
            detail += ": " + json.loads(payload)["message"]
        log.info(
            "%s %s#%s attempt %d/%d %s after %.2fs%s",
            _MARK.get(outcome, "·"),
            job.type,
            job.id,
            job.attempt,
            job.max_attempts,
            what,
            took,
            detail,
        )

    async def _attempt(self, job: Running) -> tuple[str, str, float]:
        """Run the processor; returns (outcome, result-or-error JSON, retry delay)."""
        task_type = self.types[job.type]
        try:
            data = decode_payload(job.payload, job.type, task_type)
        except CorruptJob as exc:
            return "failed", error_json(exc, job.attempt), 0.0
        call = task_type.processor(id=job.id, data=data, update_progress=self._reporter(job))
        try:
            result = await asyncio.wait_for(call, job.timeout)
        except asyncio.CancelledError:
            if job.stop_reason is None:
                raise
            # We asked for this cancellation and have handled it: withdraw the request, or
            # the next `asyncio.timeout` block (redis-py's, recording the outcome) re-raises it.
            if (task := asyncio.current_task()) is not None:
                task.uncancel()
            return job.stop_reason, _STOP_MESSAGES[job.stop_reason], 0.0
        except TimeoutError as exc:
            return self._failure(job, exc, f"timed out after {job.timeout:g}s")
        except Exception as exc:
            return self._failure(job, exc)
        try:
            return "completed", result_json(result), 0.0
        except (TypeError, ValueError) as exc:  # retrying would return the same value again
            return "failed", error_json(exc, job.attempt, f"result is not JSON: {exc}"), 0.0

    def _failure(
        self, job: Running, exc: Exception, message: str | None = None
    ) -> tuple[str, str, float]:
        err = error_json(exc, job.attempt, message)
        if isinstance(exc, PermanentError | ValidationError) or job.attempt >= job.max_attempts:
            return "failed", err, 0.0
        if isinstance(exc, RetryLater):
            return "retry", err, max(0.0, exc.delay)
        return "retry", err, retry_delay(job.backoff, job.attempt)

    async def _finish(self, job: Running, outcome: str, payload: str, delay: float) -> None:
        if outcome == "lost":
            log.warning("%s#%s: lease lost; its result is discarded", job.type, job.id)
            return
        progress = ""
        if outcome == "completed":
            final = job.progress.model_copy(update={"percentage": 100.0})
            progress = final.model_dump_json(exclude_none=True)
        tt = self.types[job.type].options
        keep, age = -1, 0.0
        if outcome == "completed":
            keep = _first(tt.keep_completed, self.settings.keep_completed)
            age = tt.keep_completed_age or 0.0
        elif outcome == "failed":
            keep = _first(tt.keep_failed, self.settings.keep_failed)
            age = tt.keep_failed_age or 0.0
        args = flat(
            job.id, job.token, outcome, payload, int(delay * 1000), keep, int(age * 1000), progress
        )
        for wait in _backoff():
            try:
                accepted = await self.scripts.finish(args=args)
                break
            except ResponseError as exc:
                if isinstance(exc, ReadOnlyError):  # a failover in progress: wait for it
                    await self._redis_trouble(exc, wait)
                    continue
                # The script failed on this job's record: retrying cannot help, and would hold
                # the slot for ever. Its lease runs out and the job is taken back as lost.
                log.error("%s#%s: could not record %s: %s", job.type, job.id, outcome, exc)
                return
            except RedisError as exc:
                if self.stopping and wait > self.settings.grace:
                    log.error("%s#%s: could not record %s: %s", job.type, job.id, outcome, exc)
                    return
                await self._redis_trouble(exc, wait)
        if not accepted:
            log.warning(
                "%s#%s: taken over by another worker; %s discarded", job.type, job.id, outcome
            )
            return
        key = {"retry": "retried", "requeue": "retried"}.get(outcome, outcome)
        self.counts[key] = self.counts.get(key, 0) + 1

    def _reporter(self, job: Running) -> Callable[..., Awaitable[None]]:
        async def update_progress(
            percentage: float | None = None,
            current: int | None = None,
            total: int | None = None,
            message: str | None = None,
        ) -> None:
            if percentage is None and current is not None and total:
                percentage = 100.0 * current / total
            job.progress = Progress(
                percentage=min(100.0, max(0.0, percentage or 0.0)),
                current=current,
                total=total,
                message=message,
            )
            body = job.progress.model_dump_json(exclude_none=True)
            try:
                reply = await self.scripts.progress(args=[job.id, job.token, body])
            except RedisError as exc:
                # Progress is best effort: the job goes on while Redis is away.
                await self._redis_trouble(exc, 0)
                return
            if reply == "lost":
                self._cancel(job, "lost")
            elif reply == "abort":
                self._cancel(job, "aborted")
            elif reply == "pause":
                await self._paused(job)
            await asyncio.sleep(0)  # let a cancellation requested above land here

        return update_progress

    async def _paused(self, job: Running) -> None:
        """Hold the job (and its slot) until it is resumed; the heartbeat keeps its lease."""
        log.info("%s#%s paused", job.type, job.id)
        job.resumed.clear()
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(job.resumed.wait(), HEARTBEAT)
            try:
                state = await self.redis.hget(keys.job(job.id), "state")  # type: ignore[misc]
            except RedisError:
                continue
            if state != "paused":
                log.info("%s#%s resumed", job.type, job.id)
                return

    # -- background: control messages and heartbeat --------------------------------------------

    async def _listen(self) -> None:
        """Follow `jq:wake` and `jq:control`, reconnecting whenever Redis goes away."""
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.WAKE, keys.CONTROL)
                self._wake.set()  # anything added while we were not listening
                async for message in pubsub.listen():
                    self._on_message(message["channel"], message["data"])
            except (RedisError, OSError):
                await asyncio.sleep(1.0)
            finally:
                with suppress(RedisError, OSError):
                    await pubsub.aclose()

    def _on_message(self, channel: str, data: str) -> None:
        if channel == keys.WAKE:
            if data in self.slots:
                self._wake.set()
            return
        verb, _, jid = data.partition(" ")
        job = self.running.get(jid)
        if job is None:
            return
        if verb == "abort":
            self._cancel(job, "aborted")
        elif verb == "resume":
            job.resumed.set()

    async def _heartbeat(self) -> None:
        """Renew leases, learn of aborts and lost jobs, and take back jobs of dead workers."""
        while True:
            await asyncio.sleep(self.heartbeat)
            info = json.dumps(
                {
                    "id": self.id,
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "started": self.started,
                    "types": self.slots,
                    "jobs": sorted(self.running),
                }
            )
            held = [(j.id, j.token) for j in self.running.values()]
            try:
                replies = await self.scripts.renew(
                    args=[self.id, self.lease_ms, info, *[x for pair in held for x in pair]]
                )
                self._redis_recovered()
                if time.monotonic() >= self._reap_after:
                    await self.scripts.reap(args=[])
            except RedisError as exc:
                await self._redis_trouble(exc, 0)
                continue
            for reply in replies:
                what, _, jid = reply.partition(":")
                if (job := self.running.get(jid)) is not None:
                    self._cancel(job, "lost" if what == "lost" else "aborted")

    async def _redis_trouble(self, exc: BaseException, wait: float | None = None) -> None:
        if not self._redis_down:
            log.warning("Redis unavailable (%s); retrying until it is back", exc)
            self._redis_down = True
            self._redis_back.clear()
        # Wake early when another loop gets through, so that results waiting to be recorded
        # go in at once rather than after the rest of their backoff.
        with suppress(TimeoutError):
            await asyncio.wait_for(self._redis_back.wait(), 1.0 if wait is None else wait)

    def _redis_recovered(self) -> None:
        if self._redis_down:
            log.info("Redis is back; resuming")
            self._redis_down = False
            self._redis_back.set()
            # Every lease ran out while Redis was away, those of live workers too. Give them a
            # lease period to renew before taking back what is left, or a mere outage would
            # run their jobs twice and count an attempt against each.
            self._reap_after = time.monotonic() + self.settings.lease


_MARK = {"completed": "✓", "failed": "✗", "retry": "↻", "aborted": "⊘", "requeue": "↩"}
# What `finish` records for a job the worker itself cancelled, by the reason it did.
_STOP_MESSAGES = {
    "aborted": json.dumps({"type": "Aborted", "message": "aborted by user while running"}),
    "lost": "",
    "requeue": "worker stopping; job handed back",
}


def _first(value: int | None, default: int) -> int:
    return default if value is None else value


def _backoff() -> Any:
    """0.5 s, 1 s, 2 s ... capped at RECONNECT_MAX, for ever."""
    wait = 0.5
    while True:
        yield wait
        wait = min(wait * 2, RECONNECT_MAX)


async def run_worker(
    settings: Settings,
    *,
    types: list[str] | None = None,
    concurrency: int | None = None,
    burst: bool = False,
) -> None:
    """Run a worker for `types` (default: every registered type) until SIGINT/SIGTERM."""
    from jq.connection import connect

    registry = load_task_types(settings.imports)
    chosen = {name: get_task_type(name) for name in types} if types else registry
    redis = await connect(settings)
    worker = Worker(redis, settings, chosen, concurrency=concurrency, burst=burst)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop)
    try:
        await worker.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for hook in shutdown_hooks():
            try:
                await hook()
            except Exception as exc:
                log.warning("shutdown hook %s failed: %s", getattr(hook, "__qualname__", hook), exc)
        await redis.aclose()

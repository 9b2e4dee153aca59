"""`jq rm ID...`: abort jobs: a queued one is dropped, a running one is cancelled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from jq.commands._options import AsJson, JobIds
from jq.commands._run import open_queue, run, settings

if TYPE_CHECKING:
    from jq.queue import QueueManager

CANCEL_WAIT = 2.0  # seconds to wait for a running job's worker to confirm the abort


def rm(
    ids: JobIds,
    purge: Annotated[
        bool, typer.Option("--purge", help="Also delete the job's record (no trace stays).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Abort jobs; with --purge also delete their records.

    Exits 4 if an id is unknown, after handling the others.
    """
    from jq import render
    from jq.errors import JobNotFound

    async def body() -> None:
        outcomes: list[dict[str, Any]] = []
        missing: list[str] = []
        async with open_queue(settings()) as queue:
            for jid in ids:
                try:
                    outcome = await queue.remove_job(jid, purge=purge)
                except JobNotFound:
                    missing.append(jid)  # reported at the end, by main()
                    continue
                if outcome == "requested":
                    render.notice(f"{jid}: running; cancellation requested")
                    outcome = await _await_abort(queue, jid, purge=purge)
                outcomes.append({"id": jid, "outcome": outcome})
                if not as_json:
                    render.notice(f"{jid}: {_DESCRIBE.get(outcome, outcome)}")
        if as_json:
            render.write_json(outcomes)
        if missing:
            raise JobNotFound(missing[0]) if len(missing) == 1 else _many_missing(missing)

    run(body())


_DESCRIBE = {
    "aborted": "aborted",
    "purged": "aborted and deleted",
    "ended": "had already ended; left as it was",
    "requested": "cancellation requested; the job still runs",
}


async def _await_abort(queue: QueueManager, job_id: str, *, purge: bool) -> str:
    """The job's end state once its worker confirms within CANCEL_WAIT, else 'requested'."""
    import asyncio

    from jq.errors import JobNotFound

    loop = asyncio.get_running_loop()
    deadline = loop.time() + CANCEL_WAIT
    while loop.time() < deadline:
        try:
            job = await queue.get_job(job_id)
        except JobNotFound:  # a purged job's record goes once its worker lets go
            return "purged" if purge else "aborted"
        if job.is_terminal:
            return "purged" if purge else str(job.state)
        await asyncio.sleep(0.05)
    return "requested"


def _many_missing(ids: list[str]) -> Exception:
    from jq.errors import NotFound

    return NotFound(f"no such jobs: {', '.join(ids)}")

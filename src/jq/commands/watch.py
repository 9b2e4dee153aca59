"""`jq watch [ID ...]`: follow jobs live until they end; exit with their outcome."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from jq.commands._options import AsJson
from jq.commands._run import open_queue, run, settings

if TYPE_CHECKING:
    from jq.queue import QueueManager


def watch(
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Job ids to follow; none: every live job.", show_default=False),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Follow jobs live: progress bars on a terminal, NDJSON events otherwise.

    Exits 0 when every watched job completed, 1 when one failed or was aborted.
    """

    async def body() -> None:
        async with open_queue(settings()) as queue:
            await follow_jobs(queue, ids or None, as_json=as_json)

    run(body())


async def follow_jobs(queue: QueueManager, ids: list[str] | None, *, as_json: bool) -> None:
    """Show the events of `ids` (None: every live job) until they end; JobFailed if one failed."""
    from jq import render
    from jq.errors import JobFailed
    from jq.events import follow
    from jq.models import JobState

    outcomes: dict[str, tuple[JobState, str | None]] = {}
    stream = follow(queue.redis, ids)
    if as_json or not sys.stdout.isatty():
        async for event in stream:
            render.write_ndjson(event.model_dump(mode="json"))
            outcomes[event.id] = (event.state, event.error.message if event.error else None)
    else:
        with render.WatchView(render.stdout_console()) as view:
            async for event in stream:
                view.update(event)
                outcomes[event.id] = (event.state, event.error.message if event.error else None)
    if not outcomes:
        render.notice("no live jobs to watch")
        return
    bad = [(jid, state, msg) for jid, (state, msg) in outcomes.items() if state != "completed"]
    if bad:
        jid, state, msg = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise JobFailed(f"job {jid} {state}{': ' + msg if msg else ''}{more}")

"""`jq ls`: list jobs, newest change first, filtered by state and type."""

from __future__ import annotations

from typing import Annotated

import typer

from jq.commands._options import AsJson, State, TypeFilter
from jq.commands._run import open_queue, run, settings


def ls(
    state: Annotated[
        State | None, typer.Option("--state", "-s", help="Only jobs in this state.")
    ] = None,
    task_type: TypeFilter = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Most jobs to list.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many jobs first.")] = 0,
    as_json: AsJson = False,
) -> None:
    """List jobs, newest change first."""
    from jq import render

    async def body() -> None:
        async with open_queue(settings()) as queue:
            jobs = await queue.list_jobs(
                state.value if state else None, task_type, limit=limit, offset=offset
            )
        if as_json:
            render.write_json([job.model_dump(mode="json") for job in jobs])
        elif jobs:
            console = render.stdout_console()
            console.print(render.job_table(jobs, width=console.width))
        else:
            render.notice("no jobs")

    run(body())

"""`jq clean`: delete the records of ended jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from jq.commands._options import AsJson, EndState, TypeFilter
from jq.commands._run import open_queue, run, settings


def clean(
    state: Annotated[EndState, typer.Option("--state", "-s", help="Which ended jobs to delete.")],
    older_than: Annotated[
        str | None,
        typer.Option(
            help="Only jobs that ended at least this long ago: 30s, 5m, 2h, 1d.",
            show_default=False,
        ),
    ] = None,
    task_type: TypeFilter = None,
    as_json: AsJson = False,
) -> None:
    """Delete the records of completed, failed or aborted jobs."""
    from jq import render
    from jq.durations import parse_duration

    age = parse_duration(older_than) if older_than is not None else None

    async def body() -> None:
        async with open_queue(settings()) as queue:
            removed = await queue.clean(state.value, older_than=age, task_type=task_type)
        if as_json:
            render.write_json({"removed": removed})
        else:
            render.notice(f"deleted {removed} {state.value} job{'s' * (removed != 1)}")

    run(body())

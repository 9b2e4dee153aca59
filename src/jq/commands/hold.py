"""`jq hold TYPE` and `jq release TYPE`: stop and restart the starting of a task type's jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from jq.commands._options import TaskTypeName
from jq.commands._run import open_queue, run, settings


def hold(
    task_type: TaskTypeName,
    until: Annotated[
        str | None,
        typer.Option(
            help="Hold until this time (ISO-8601, local unless it has a timezone) or for this"
            " long (30m, 2h); default: until released.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Stop workers starting jobs of a task type; running jobs go on."""
    from jq import render
    from jq.durations import parse_time

    moment = parse_time(until) if until is not None else None

    async def body() -> None:
        async with open_queue(settings()) as queue:
            await queue.hold(task_type, moment)
        when = f"until {moment.astimezone():%Y-%m-%d %H:%M:%S %Z}" if moment else "until released"
        render.notice(f"{task_type}: held {when}")

    run(body())


def release(task_type: TaskTypeName) -> None:
    """Let workers start jobs of a held task type again."""
    from jq import render

    async def body() -> None:
        async with open_queue(settings()) as queue:
            lifted = await queue.release(task_type)
        render.notice(f"{task_type}: {'released' if lifted else 'was not held'}")

    run(body())

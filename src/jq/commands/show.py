"""`jq show ID`: one job's state, progress, attempts, data, result and error."""

from __future__ import annotations

from typing import Annotated

import typer

from jq.commands._options import AsJson
from jq.commands._run import open_queue, run, settings


def show(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="The job id.")],
    as_json: AsJson = False,
) -> None:
    """Show one job in full."""
    from jq import render

    async def body() -> None:
        async with open_queue(settings()) as queue:
            job = await queue.get_job(job_id)
        if as_json:
            render.write_json(job.model_dump(mode="json"))
        else:
            render.stdout_console().print(render.job_detail(job))

    run(body())

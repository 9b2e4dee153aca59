"""`jq stats`: per task type counts, holds, throughput and backlog; the workers alive."""

from __future__ import annotations

from jq.commands._options import AsJson
from jq.commands._run import open_queue, run, settings


def stats(as_json: AsJson = False) -> None:
    """Show counts by state, holds, jobs per minute and backlog age per type, and the workers."""
    from jq import render

    async def body() -> None:
        async with open_queue(settings()) as queue:
            figures = await queue.stats()
        if as_json:
            render.write_json(figures)
        else:
            render.stdout_console().print(render.stats_view(figures))

    run(body())

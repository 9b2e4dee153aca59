"""`jq retry ID... | --all-failed`: requeue failed or aborted jobs with fresh attempts."""

from __future__ import annotations

from typing import Annotated

import typer

from jq.commands._options import AsJson, TypeFilter
from jq.commands._run import open_queue, run, settings


def retry(
    ids: Annotated[
        list[str] | None, typer.Argument(help="Job ids to requeue.", show_default=False)
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Requeue every job in the dead-letter set.")
    ] = False,
    task_type: TypeFilter = None,
    as_json: AsJson = False,
) -> None:
    """Requeue failed or aborted jobs with a fresh attempt count."""
    from jq import render
    from jq.errors import JqError, UsageError

    if bool(ids) == all_failed:
        raise UsageError("give job ids or --all-failed (not both)")
    if task_type and not all_failed:
        raise UsageError("--type goes with --all-failed")

    async def body() -> None:
        retried: list[str] = []
        first: JqError | None = None
        async with open_queue(settings()) as queue:
            if all_failed:
                retried = await queue.retry_failed(task_type)
            for jid in ids or ():
                try:
                    await queue.retry_job(jid)
                except JqError as exc:
                    if first is None:
                        first = exc  # main() reports it
                    else:
                        render.notice(f"{jid}: {exc}")
                    continue
                retried.append(jid)
        if as_json:
            render.write_json({"retried": retried})
        else:
            render.notice(f"requeued {len(retried)} job{'s' * (len(retried) != 1)}")
        if first is not None:
            raise first

    run(body())

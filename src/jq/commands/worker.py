"""`jq worker`: run jobs in this process until SIGINT/SIGTERM (with --burst: until none is left)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from jq.commands._run import run, settings


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            help="Jobs at once per task type (default: 3).",
            show_default=False,
        ),
    ] = None,
    task_types: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            "-t",
            help="Run only this task type; repeatable (default: all).",
            show_default=False,
        ),
    ] = None,
    imports: Annotated[
        list[str] | None,
        typer.Option(
            "--import",
            help="Import this module to register its task types; repeatable.",
            show_default=False,
        ),
    ] = None,
    burst: Annotated[
        bool, typer.Option("--burst", help="Exit once no job is left to run.")
    ] = False,
) -> None:
    """Run a worker: claim jobs and run their processors, logging one line per job to stderr."""
    from jq.worker import run_worker

    config = settings()
    config.imports = [*config.imports, *(imports or ())]
    _log_to_stderr()
    run(run_worker(config, types=task_types or None, concurrency=concurrency, burst=burst))


class _OneLine(logging.Formatter):
    """Every record on one line, an exception as its type and message, never a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line += f" ({type(exc).__name__}: {exc})"
        return " ".join(line.split("\n"))

    def formatException(self, ei: object) -> str:
        return ""


def _log_to_stderr() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_OneLine("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    log = logging.getLogger("jq.worker")
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False

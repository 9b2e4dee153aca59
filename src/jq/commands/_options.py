"""Option and argument definitions shared by several commands, as `Annotated` aliases."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class State(StrEnum):
    """The job states, spelled here so that `jq --help` need not import pydantic.

    A unit test pins them to `jq.models.JobState`.
    """

    WAITING = "waiting"
    DELAYED = "delayed"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"


class EndState(StrEnum):
    """The states a job ends in (what `jq clean` deletes)."""

    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"


AsJson = Annotated[
    bool, typer.Option("--json", help="Print JSON on stdout instead of a human view.")
]
JobIds = Annotated[list[str], typer.Argument(help="One or more job ids.", show_default=False)]
TypeFilter = Annotated[
    str | None,
    typer.Option("--type", "-t", help="Only jobs of this task type.", show_default=False),
]
TaskTypeName = Annotated[str, typer.Argument(help="A task type name (see `jq types`).")]

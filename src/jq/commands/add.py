"""`jq add TYPE`: enqueue a job; the task type's input fields become typed flags.

The subcommands are built from the task registry when asked for, so `jq --help` loads no
processor while `jq add --help` lists the types and `jq add TYPE --help` shows the fields.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from jq.commands._options import AsJson

if TYPE_CHECKING:
    from typer import _click

    from jq.commands._task_fields import TaskField
    from jq.tasks import TaskType

JOB_PANEL = "Job options"
FIELD_PANEL = "Task fields"


def _job(help: str, *names: str, **extra: Any) -> Any:
    """A job option, shown in its own help panel."""
    return typer.Option(*names, help=help, rich_help_panel=JOB_PANEL, show_default=False, **extra)


def _job_options(
    data: Annotated[
        str | None, _job("Task input as a JSON object; flags override its keys.")
    ] = None,
    data_file: Annotated[
        Path | None,
        _job("Read the task input from a JSON file ('-': stdin).", dir_okay=False, allow_dash=True),
    ] = None,
    attempts: Annotated[
        int | None,
        _job("Attempts before the job fails for good (default: the task type's, else 3).", min=1),
    ] = None,
    backoff: Annotated[
        float | None, _job("Seconds before the first retry, doubling each time (default 2).", min=0)
    ] = None,
    job_id: Annotated[str | None, _job("Use this id instead of a generated one.")] = None,
    priority: Annotated[int, _job("Higher runs first (default 0).")] = 0,
    delay: Annotated[
        str | None, _job("Run after this long: 30s, 5m, 2h, 1d, 1.5s or seconds.")
    ] = None,
    at: Annotated[
        str | None, _job("Run at this time: ISO-8601, local time unless it has a timezone.")
    ] = None,
    watch: Annotated[bool, _job("Then follow the job like `jq watch ID`.", "--watch")] = False,
    as_json: AsJson = False,
) -> None:
    """Never called: its signature declares the options every `jq add TYPE` shares."""


_JOB_PARAMS = list(inspect.signature(_job_options, eval_str=True).parameters.values())
_JOB_FLAGS = {"--" + p.name.replace("_", "-") for p in _JOB_PARAMS} | {"--json", "--help"}
_FIELD_PREFIX = "field__"


class TaskTypeGroup(TyperGroup):
    """`jq add`'s subcommands: one per registered task type, built on demand.

    Subclasses Typer's click group (typer.core.TyperGroup) because these commands come from the
    task registry at run time; Typer's decorators only know commands defined in code.
    """

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return sorted(_registry())

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        from jq.errors import UnknownTaskType

        registry = _registry()
        task_type = registry.get(cmd_name)
        if task_type is None:
            if ctx.resilient_parsing:  # shell completion: no error, just no command
                return None
            raise UnknownTaskType(cmd_name, list(registry))
        return build_command(task_type)


app = typer.Typer(
    name="add",
    cls=TaskTypeGroup,
    help="Add a job: `jq add TYPE --FIELD VALUE ...`; prints its id.",
    no_args_is_help=True,
    add_completion=False,
)


def _registry() -> dict[str, TaskType]:
    from jq.commands._run import settings
    from jq.tasks import load_task_types

    return load_task_types(settings().imports)


def build_command(task_type: TaskType) -> _click.Command:
    """A `jq add TYPE` command whose options are the job options and the type's fields."""
    from jq.commands._task_fields import task_fields

    fields = [f for f in task_fields(task_type.input_model) if f.kind and f.flag not in _JOB_FLAGS]
    params = _JOB_PARAMS + [_field_param(f) for f in fields]
    hidden = [f.name for f in task_fields(task_type.input_model) if f not in fields]

    def callback(**kwargs: Any) -> None:
        flags = {
            name.removeprefix(_FIELD_PREFIX): kwargs.pop(name)
            for name in list(kwargs)
            if name.startswith(_FIELD_PREFIX)
        }
        enqueue(task_type.name, flags, **kwargs)

    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    epilog = f"Set {', '.join(hidden)} through --data." if hidden else None
    one = typer.Typer(add_completion=False)
    one.command(name=task_type.name, help=task_type.description or None, epilog=epilog)(callback)
    return typer.main.get_command(one)


def _field_param(field: TaskField) -> inspect.Parameter:
    assert field.kind is not None
    notes = []
    if field.required:
        notes.append("required")
    elif field.default is not None:
        notes.append(f"default: {json.dumps(field.default)}")
    help_text = field.description + (f" ({'; '.join(notes)})" if notes else "")
    decl = field.flag
    if field.kind is bool:
        decl = f"{field.flag}/--no-{field.flag[2:]}"
    option = typer.Option(decl, help=help_text, rich_help_panel=FIELD_PANEL, show_default=False)
    return inspect.Parameter(
        _FIELD_PREFIX + field.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[field.kind | None, option],
    )


def enqueue(
    type_name: str,
    flags: dict[str, Any],
    *,
    data: str | None,
    data_file: Path | None,
    attempts: int | None,
    backoff: float | None,
    job_id: str | None,
    priority: int,
    delay: str | None,
    at: str | None,
    watch: bool,
    as_json: bool,
) -> None:
    """Validate the input (before touching Redis), enqueue the job, print its id."""
    from enum import Enum

    from jq import render
    from jq.commands._run import open_queue, run, settings
    from jq.commands.watch import follow_jobs
    from jq.durations import parse_duration, parse_time
    from jq.errors import UsageError
    from jq.queue import validate

    payload: dict[str, Any] = {}
    if data_file is not None:
        payload.update(_json_object(_read(data_file), f"--data-file {data_file}"))
    if data is not None:
        payload.update(_json_object(data, "--data"))
    for name, value in flags.items():
        if value is not None:
            payload[name] = value.value if isinstance(value, Enum) else value
    if delay is not None and at is not None:
        raise UsageError("give --delay or --at, not both")
    delay_s = parse_duration(delay) if delay is not None else None
    run_at = parse_time(at) if at is not None else None
    config = settings()
    clean = validate(type_name, payload, config)

    async def body() -> None:
        async with open_queue(config) as queue:
            jid = await queue.add_job(
                type_name,
                clean,
                job_id=job_id,
                priority=priority,
                delay=delay_s,
                run_at=run_at,
                attempts=attempts,
                backoff=backoff,
            )
            if as_json:
                render.write_json({"id": jid})
            else:
                render.write_line(jid)
            if watch:
                await follow_jobs(queue, [jid], as_json=as_json)

    run(body())


def _read(path: Path) -> str:
    from jq.errors import UsageError

    try:
        return sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --data-file {path}: {exc}") from None


def _json_object(text: str, where: str) -> dict[str, Any]:
    from jq.errors import UsageError

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{where} must be a JSON object, not {type(value).__name__}")
    return value

"""The CLI in-process: error → exit code mapping in main(), help text, and generated `jq add`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, Field
from typer._click.core import Command, Context  # the vendored click's, which Typer builds on
from typer.core import TyperGroup as Group
from typer.core import TyperOption as Option

from jq import cli
from jq.commands import add
from jq.commands._options import State
from jq.commands.completions import completion_script
from jq.errors import ConfigError, JobFailed, JobNotFound, RedisUnavailable, UsageError
from jq.models import JobState
from jq.tasks import TaskOptions, TaskType

ROOT = Path(__file__).resolve().parents[2]


def _raising(exc: BaseException) -> object:
    def command() -> None:
        raise exc

    return command


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (UsageError("bad"), 2),
        (ConfigError("bad config"), 3),
        (JobNotFound("x1"), 4),
        (RedisUnavailable("down"), 5),
        (JobFailed("job 1 failed"), 1),
        (KeyboardInterrupt(), 130),
        (ConnectionRefusedError(111, "refused"), 5),
    ],
)
def test_main_maps_errors_to_exit_codes(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException,
    code: int,
) -> None:
    monkeypatch.setattr("jq.commands.stats.run", lambda coro: (coro.close(), _raise(exc)))
    assert cli.main(["stats"]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code != 130:
        assert err.startswith("jq: error: ") and err.count("\n") == 1


def _raise(exc: BaseException) -> None:
    raise exc


def test_redis_errors_name_the_redacted_location(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import redis.exceptions

    monkeypatch.setenv("JQ_REDIS_URL", "redis://user:hunter2@db.example:6379/0")
    boom = redis.exceptions.ConnectionError("Connection reset by peer")
    monkeypatch.setattr("jq.commands.stats.run", lambda coro: (coro.close(), _raise(boom)))
    assert cli.main(["stats"]) == 5
    err = capsys.readouterr().err
    assert "db.example" in err and "hunter2" not in err


@pytest.mark.parametrize(
    "argv",
    [["bogus"], ["ls", "--bogus"], ["ls", "--limit", "abc"], ["show"], ["ls", "--state", "x"]],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("jq: error: ") and err.count("\n") == 1


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    assert "Usage" in capsys.readouterr().out
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("jq ")


def _commands(group: Group, ctx: Context) -> Iterator[tuple[str, Command]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        path = f"{ctx.command_path} {name}"
        yield path, command
        if isinstance(command, Group):
            yield from _commands(command, Context(command, info_name=name, parent=ctx))


def test_every_command_has_help_text() -> None:
    import typer.main

    root = typer.main.get_command(cli.app)
    assert isinstance(root, Group)
    ctx = Context(root, info_name="jq")
    seen = dict(_commands(root, ctx))
    assert {"jq add", "jq add demo", "jq ls", "jq watch", "jq server", "jq release"} <= set(seen)
    for path, command in seen.items():
        assert (command.help or command.short_help or "").strip(), f"{path} has no help"
        for param in command.params:
            if isinstance(param, Option) and param.name != "help":
                assert param.help, f"{path} {param.opts} has no help"


def test_state_choices_match_job_states() -> None:
    assert [s.value for s in State] == [s.value for s in JobState]


class GadgetInput(BaseModel):
    url: str = Field(description="Where the gadget lives.")
    count: int = Field(default=3, ge=1, description="How many gadgets.")
    ratio: float | None = Field(default=None, description="A ratio.")
    loud: bool = Field(default=False, description="Make noise.")
    tags: list[str] = Field(default_factory=list, description="Labels.")
    priority: int = Field(default=0, description="Clashes with the job option.")


async def _gadget(*, id: str, data: GadgetInput, update_progress: object) -> None:
    """Never run."""


GADGET = TaskType("test-gadget", _gadget, GadgetInput, None, TaskOptions(), "Build a gadget.")


def _gadget_command() -> Command:
    return add.build_command(GADGET)  # not registered: other tests see the real registry


def test_add_command_turns_model_fields_into_typed_flags() -> None:
    command = _gadget_command()
    options = {p.name: p for p in command.params if isinstance(p, Option)}
    url, count = options["field__url"], options["field__count"]
    assert url.opts == ["--url"] and url.help and "Where the gadget lives." in url.help
    assert "required" in url.help
    assert count.help and "default: 3" in count.help
    assert options["field__loud"].opts == ["--loud"]
    assert options["field__loud"].secondary_opts == ["--no-loud"]
    assert all(o.default is None for name, o in options.items() if name.startswith("field__"))
    # Lists only through --data; a field named like a job option keeps the job option.
    assert "field__tags" not in options and "field__priority" not in options
    assert command.epilog and "tags" in command.epilog and "priority" in command.epilog
    assert command.help == "Build a gadget."


def _gadget_data(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> dict[str, object]:
    """The data `jq add test-gadget ARGV` would validate (it stops there)."""
    captured: dict[str, object] = {}

    def fake_validate(
        type_name: str, data: dict[str, object], settings: object
    ) -> dict[str, object]:
        captured.update(data)
        raise UsageError("stop here")

    monkeypatch.setattr("jq.queue.validate", fake_validate)
    with pytest.raises(UsageError, match="stop here"):
        _gadget_command().main(argv, prog_name="jq add test-gadget", standalone_mode=False)
    return captured


def test_add_flags_override_data_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["--data", json.dumps({"url": "a", "count": 9}), "--count", "4", "--loud"]
    assert _gadget_data(monkeypatch, argv) == {"url": "a", "count": 4, "loud": True}


def test_add_flags_are_converted_to_their_field_types(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["--url", "u", "--ratio", "0.5", "--no-loud"]
    assert _gadget_data(monkeypatch, argv) == {"url": "u", "ratio": 0.5, "loud": False}


def test_add_flag_of_the_wrong_type_is_a_usage_error() -> None:
    from typer._click.exceptions import UsageError as ClickUsageError

    with pytest.raises(ClickUsageError) as info:
        _gadget_command().main(["--count", "many"], standalone_mode=False)
    assert "--count" in info.value.format_message()


def test_add_of_unknown_type_is_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["add", "no-such-type"]) == 4
    assert "unknown task type: no-such-type" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["add", "demo", "--steps", "-3"], "steps"),
        (["add", "demo", "--steps", "abc"], "--steps"),
        (["add", "demo", "--data", "{not json"], "--data"),
        (["add", "demo", "--data", "[1]"], "JSON object"),
        (["add", "demo", "--delay", "soon"], "duration"),
        (["add", "demo", "--delay", "5s", "--at", "2030-01-01T00:00"], "not both"),
    ],
)
def test_bad_add_input_exits_2_without_redis(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    needle: str,
) -> None:
    monkeypatch.setenv("JQ_REDIS_URL", "redis://127.0.0.1:1")  # nothing listens there
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_committed_completion_scripts_match_the_app(shell: str) -> None:
    committed = (ROOT / "completions" / f"jq.{shell}").read_text()
    regenerate = f"python -m jq completions {shell} > completions/jq.{shell}"
    assert committed == completion_script(shell) + "\n", f"stale; regenerate: {regenerate}"

"""The `jq` command: the root Typer app, and `main()`, the one place errors become exit codes.

Commands import what they need when they run, so `jq --help` loads no Redis client,
no processor and no pydantic model.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from jq.commands import (
    add,
    clean,
    completions,
    hold,
    ls,
    pause,
    resume,
    retry,
    rm,
    server,
    show,
    stats,
    watch,
    worker,
)
from jq.commands import types as types_command
from jq.errors import EXIT_INTERRUPTED, EXIT_JOB_FAILED, EXIT_REDIS, EXIT_USAGE

PROG_NAME = "jq"

app = typer.Typer(
    name=PROG_NAME,
    help="A Redis-backed background job runner: add jobs, run workers, watch progress.",
    no_args_is_help=True,
    add_completion=True,  # also registers the shell classes that _JQ_COMPLETE=... needs
    pretty_exceptions_enable=False,  # main() reports errors; a bug keeps its plain traceback
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"jq {version('jq-jobs')}")
        raise typer.Exit()


@app.callback()
def root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print jq's version and exit."
        ),
    ] = False,
) -> None:
    """A Redis-backed background job runner: add jobs, run workers, watch progress.

    Redis: JQ_REDIS_URL, else REDIS_HOST/REDIS_PORT/REDIS_PASSWORD, else a private server
    that jq starts itself. Exit codes: 0 ok, 1 job failed, 2 bad usage, 3 bad configuration,
    4 no such job or type, 5 Redis unreachable, 130 interrupted.
    """


app.add_typer(add.app)
for command in (
    ls.ls,
    show.show,
    watch.watch,
    rm.rm,
    pause.pause,
    resume.resume,
    retry.retry,
    worker.worker,
    types_command.types,
    stats.stats,
    clean.clean,
    hold.hold,
    hold.release,
    completions.completions,
):
    app.command()(command)
app.add_typer(server.app, name="server")


def main(argv: Sequence[str] | None = None) -> int:
    """Run jq; return the exit code, having printed any error as one line on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app(args=args, prog_name=PROG_NAME, standalone_mode=False)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except typer.Abort:
        return EXIT_INTERRUPTED
    except Exception as exc:
        failure = _failure(exc)
        if failure is None:
            raise
        exit_code, message = failure
        sys.stderr.write(f"{PROG_NAME}: error: {' '.join(message.split())}\n")
        sys.stderr.flush()
        return exit_code
    return code if isinstance(code, int) else 0


def _failure(exc: Exception) -> tuple[int, str] | None:
    """The exit code and message for an error a user may meet; None for a bug."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    from jq.errors import JqError

    # typer.BadParameter's base: the vendored click's exceptions are what Typer raises for bad
    # flags, and Typer exports no name for the base classes.
    if isinstance(exc, NoArgsIsHelpError):
        exc.show()  # the help text, on stderr
        return EXIT_USAGE, "a command is missing" + _see_help(exc)
    if isinstance(exc, UsageError):
        return EXIT_USAGE, exc.format_message() + _see_help(exc)
    if isinstance(exc, ClickException):
        return exc.exit_code, exc.format_message()
    if isinstance(exc, JqError):
        return exc.exit_code, str(exc)
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(exc, RedisConnectionError | RedisTimeoutError | ConnectionError | TimeoutError):
        return EXIT_REDIS, f"cannot reach Redis at {_redis_location()}: {exc}"
    if isinstance(exc, RedisError):
        return EXIT_JOB_FAILED, f"Redis replied with an error: {exc}"
    if isinstance(exc, OSError):
        return EXIT_JOB_FAILED, str(exc)
    return None


def _see_help(exc: Exception) -> str:
    ctx = getattr(exc, "ctx", None)
    return f" (see '{ctx.command_path} --help')" if ctx is not None else ""


def _redis_location() -> str:
    """The configured Redis, password redacted; never fails."""
    try:
        from jq.connection import describe
        from jq.settings import load_settings

        return describe(load_settings())
    except Exception:
        return "the configured location"

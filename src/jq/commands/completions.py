"""`jq completions SHELL`: print the shell completion script (also kept in completions/)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

PROG_NAME = "jq"
COMPLETE_VAR = "_JQ_COMPLETE"


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def completions(
    shell: Annotated[Shell, typer.Argument(help="The shell to print the script for.")],
) -> None:
    """Print the completion script for bash, zsh or fish.

    bash: `jq completions bash > ~/.local/share/bash-completion/completions/jq`
    """
    from jq import render

    render.write_line(completion_script(shell.value))


def completion_script(shell: str) -> str:
    """What `jq --show-completion SHELL` would print: Typer's script for prog `jq`."""
    # Typer has no public API for the script text; this is the function its
    # --show-completion uses.
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR, shell=shell)

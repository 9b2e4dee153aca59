"""jq's Lua scripts: each state change is one atomic round trip to Redis."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from jq import keys

NAMES = (
    "add",
    "claim",
    "progress",
    "finish",
    "renew",
    "reap",
    "pause",
    "resume",
    "abort",
    "retry",
    "clean",
)


@cache
def source(name: str) -> str:
    """The full text of script `name`: key prefixes, shared functions, then its body."""
    lua = files("jq") / "lua"
    return keys.lua_header() + (lua / "common.lua").read_text() + (lua / f"{name}.lua").read_text()


class Scripts:
    """The registered scripts of one Redis client; `await scripts.claim(args=[...])`."""

    def __init__(self, redis: Redis) -> None:
        for name in NAMES:
            setattr(self, name, redis.register_script(source(name)))

    add: AsyncScript
    claim: AsyncScript
    progress: AsyncScript
    finish: AsyncScript
    renew: AsyncScript
    reap: AsyncScript
    pause: AsyncScript
    resume: AsyncScript
    abort: AsyncScript
    retry: AsyncScript
    clean: AsyncScript


def flat(*args: Any) -> list[Any]:
    """ARGV for a script: None becomes '' so Lua sees a string."""
    return ["" if a is None else a for a in args]

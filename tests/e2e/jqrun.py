"""Run `python -m jq` as a user does: the command, its JSON, its one-line errors, a worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import redis.asyncio

TIMEOUT = 30


def jq(*args: str, env: dict[str, str] | None = None, timeout: float = TIMEOUT) -> Any:
    """Run `python -m jq ARGS`; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "jq", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        timeout=timeout,
    )


def jq_json(*args: str) -> Any:
    result = jq(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_line_error(result: Any, code: int) -> str:
    """Assert exit `code` with exactly one `jq: error:` line on stderr and no traceback."""
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jq: error: "), result.stderr
    return lines[0]


async def jq_keys(aredis: redis.asyncio.Redis) -> list[str]:
    return sorted(
        [k async for k in aredis.scan_iter("jq:*")] + [k async for k in aredis.scan_iter("arq:*")]
    )

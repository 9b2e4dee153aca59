"""The public names of `jq`, and that importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import jq


def test_public_api_is_pinned() -> None:
    assert sorted(jq.__all__) == [
        "ConfigError",
        "Event",
        "Job",
        "JobError",
        "JobFailed",
        "JobNotFound",
        "JobState",
        "JqError",
        "NotFound",
        "PermanentError",
        "Progress",
        "QueueManager",
        "RedisUnavailable",
        "RetryLater",
        "Settings",
        "TERMINAL",
        "TaskError",
        "TaskOptions",
        "TaskType",
        "UnknownTaskType",
        "UpdateProgress",
        "UsageError",
        "load_settings",
        "task",
    ]


def test_every_public_name_resolves() -> None:
    for name in jq.__all__:
        assert getattr(jq, name) is not None


def test_import_jq_and_cli_load_no_redis_or_processors() -> None:
    code = (
        "import sys, jq, jq.cli\n"
        "heavy = [m for m in ('redis', 'arq', 'httpx', 'jq.processors', 'rich.progress')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

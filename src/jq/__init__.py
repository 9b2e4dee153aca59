"""jq: a Redis-backed background job runner, driven from the command line.

The public API is imported lazily, so `import jq` (and `jq --help`) loads neither redis nor arq.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jq.errors import (
        ConfigError,
        JobFailed,
        JobNotFound,
        JqError,
        NotFound,
        PermanentError,
        RedisUnavailable,
        RetryLater,
        TaskError,
        UnknownTaskType,
        UsageError,
    )
    from jq.models import TERMINAL, Event, Job, JobError, JobState, Progress
    from jq.queue import QueueManager
    from jq.settings import Settings, load_settings
    from jq.tasks import TaskOptions, TaskType, UpdateProgress, task

_EXPORTS = {
    "QueueManager": "jq.queue",
    "task": "jq.tasks",
    "TaskType": "jq.tasks",
    "TaskOptions": "jq.tasks",
    "UpdateProgress": "jq.tasks",
    "Job": "jq.models",
    "JobState": "jq.models",
    "JobError": "jq.models",
    "TERMINAL": "jq.models",
    "Progress": "jq.models",
    "Event": "jq.models",
    "Settings": "jq.settings",
    "load_settings": "jq.settings",
    "JqError": "jq.errors",
    "UsageError": "jq.errors",
    "ConfigError": "jq.errors",
    "NotFound": "jq.errors",
    "JobNotFound": "jq.errors",
    "UnknownTaskType": "jq.errors",
    "RedisUnavailable": "jq.errors",
    "JobFailed": "jq.errors",
    "TaskError": "jq.errors",
    "PermanentError": "jq.errors",
    "RetryLater": "jq.errors",
}

__all__ = [
    "TERMINAL",
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
    "TaskError",
    "TaskOptions",
    "TaskType",
    "UnknownTaskType",
    "UpdateProgress",
    "UsageError",
    "load_settings",
    "task",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'jq' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

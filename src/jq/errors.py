"""jq's error tree and the exit code each error maps to.

    JqError                     base of everything jq raises on purpose (exit 1)
    ├── UsageError              bad flags, JSON, URLs or task data; nothing was written (exit 2)
    ├── ConfigError             settings that cannot work, e.g. no Redis to start (exit 3)
    ├── NotFound                no such job or task type (exit 4)
    │   ├── JobNotFound         a job id that Redis does not hold
    │   └── UnknownTaskType     a task type no processor is registered for
    ├── RedisUnavailable        Redis could not be reached or went away mid-command (exit 5)
    └── JobFailed               a watched job ended failed or aborted (exit 1)

Processors raise these to steer retries:

    TaskError                   base of errors a processor raises deliberately
    ├── PermanentError          fail the job now, without further attempts
    └── RetryLater              retry after `delay` seconds (e.g. Retry-After), if attempts remain
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_NOT_FOUND = 4
EXIT_REDIS = 5
EXIT_INTERRUPTED = 130


class JqError(Exception):
    """Raised for an expected failure that the CLI turns into a one-line message."""

    exit_code = EXIT_JOB_FAILED


class UsageError(JqError):
    """Raised when input (flags, JSON, task data) is invalid; raised before anything is written."""

    exit_code = EXIT_USAGE


class ConfigError(JqError):
    """Raised when the configuration cannot work (bad URL scheme, no server binary)."""

    exit_code = EXIT_CONFIG


class NotFound(JqError):
    """Raised when a named job or task type does not exist."""

    exit_code = EXIT_NOT_FOUND


class JobNotFound(NotFound):
    """Raised when a job id is not in Redis."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no such job: {job_id}")
        self.job_id = job_id


class UnknownTaskType(NotFound):
    """Raised when no processor is registered under a task type name."""

    def __init__(self, name: str, known: list[str] | None = None) -> None:
        hint = f" (known: {', '.join(sorted(known))})" if known else ""
        super().__init__(f"unknown task type: {name}{hint}")
        self.name = name


class RedisUnavailable(JqError):
    """Raised when Redis cannot be reached, or the connection drops during a command."""

    exit_code = EXIT_REDIS


class JobFailed(JqError):
    """Raised by watch when a watched job ends failed or aborted."""

    exit_code = EXIT_JOB_FAILED


class TaskError(Exception):
    """Base for errors a processor raises on purpose; ordinary ones are retried."""


class PermanentError(TaskError):
    """Raised by a processor when retrying cannot help: the job fails at once."""


class RetryLater(TaskError):
    """Raised by a processor to be retried after `delay` seconds instead of the usual backoff."""

    def __init__(self, message: str, delay: float) -> None:
        super().__init__(message)
        self.delay = delay

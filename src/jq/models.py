"""The job as data: its state, progress, error and the JSON shape the CLI prints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class JobState(StrEnum):
    """Where a job is in its life."""

    WAITING = "waiting"
    DELAYED = "delayed"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    ABORTED = "aborted"


TERMINAL: frozenset[JobState] = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.ABORTED})


class Progress(BaseModel):
    """The latest progress a processor reported."""

    model_config = ConfigDict(extra="ignore")

    percentage: float = Field(default=0.0, ge=0, le=100)
    current: int | None = None
    total: int | None = None
    message: str | None = None


class JobError(BaseModel):
    """Why an attempt failed."""

    type: str
    message: str
    attempt: int | None = None
    failed_at: datetime | None = None


class Job(BaseModel):
    """One job as jq stores and prints it (`jq show --json`)."""

    id: str
    type: str
    state: JobState
    data: dict[str, Any] = Field(default_factory=dict)
    progress: Progress = Field(default_factory=Progress)
    attempts_made: int = 0
    max_attempts: int = 1
    priority: int = 0
    result: Any = None
    error: JobError | None = None
    errors: list[JobError] = Field(default_factory=list)
    created_at: datetime
    run_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str | None = None
    rev: int = 0

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL

    @classmethod
    def from_hash(cls, fields: dict[str, str]) -> Job:
        """Build a job from the strings of its `jq:job:<id>` hash; raises ValueError if corrupt."""
        try:
            return cls._from_hash(fields)
        except ValueError:
            raise
        # A record written by someone else can fail in more ways than ValueError: a missing
        # field, a timestamp of "inf" or 1e30, JSON nested past the recursion limit. Callers
        # such as `jq ls` skip a corrupt record; they must not crash on one.
        except (KeyError, TypeError, ArithmeticError, OSError, RecursionError) as exc:
            raise ValueError(f"corrupt job record: {type(exc).__name__}: {exc}") from exc

    @classmethod
    def _from_hash(cls, fields: dict[str, str]) -> Job:
        raw: dict[str, Any] = {
            "id": fields["id"],
            "type": fields["type"],
            "state": fields["state"],
            "priority": int(fields.get("priority", 0)),
            "attempts_made": int(fields.get("attempts", 0)),
            "max_attempts": int(fields.get("max_attempts", 1)),
            "created_at": ms_to_dt(fields["created"]),
            "worker": fields.get("worker") or None,
            "rev": int(fields.get("rev", 0)),
        }
        for key, name in (
            ("data", "data"),
            ("progress", "progress"),
            ("result", "result"),
            ("error", "error"),
            ("errors", "errors"),
        ):
            if fields.get(key):
                raw[name] = json.loads(fields[key])
        for key, name in (
            ("run_at", "run_at"),
            ("started", "started_at"),
            ("finished", "finished_at"),
        ):
            if fields.get(key):
                raw[name] = ms_to_dt(fields[key])
        return cls.model_validate(raw)


class Event(BaseModel):
    """One message on the `jq:events` channel (and one NDJSON line of `jq watch --json`).

    `rev` grows by one with every change to a job; a watcher drops events whose `rev` is not
    newer than the snapshot it read, so it never shows a stale bar.
    """

    model_config = ConfigDict(extra="allow")

    # added waiting active progress paused resumed retrying requeued retried completed failed
    # aborted, and "snapshot" for a stored state a follower starts from
    event: str
    id: str
    type: str
    state: JobState
    rev: int
    ts: datetime
    progress: Progress = Field(default_factory=Progress)
    attempt: int | None = None
    result: Any = None
    error: JobError | None = None
    reason: str | None = None


def ms_to_dt(ms: str | int | float) -> datetime:
    """Epoch milliseconds to an aware UTC datetime."""
    return datetime.fromtimestamp(int(float(ms)) / 1000, tz=UTC)


def dt_to_ms(dt: datetime) -> int:
    """Aware datetime to epoch milliseconds."""
    return int(dt.timestamp() * 1000)

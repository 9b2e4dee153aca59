"""The rich views: optional columns, job detail, stats and the live watch view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

from rich.console import Console

from jq import render
from jq.models import Event, Job, JobError, JobState, Progress

NOW = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)


def _job(job_id: str, state: JobState = JobState.WAITING, **fields: Any) -> Job:
    return Job(id=job_id, type="demo", state=state, created_at=NOW - timedelta(minutes=1), **fields)


def _headers(jobs: list[Job]) -> list[str]:
    return [str(column.header) for column in render.job_table(jobs, now=NOW).columns]


def _console() -> Console:
    return Console(file=StringIO(), width=100)


def _text(console: Console) -> str:
    file = console.file
    assert isinstance(file, StringIO)
    return file.getvalue()


def test_job_table_has_no_optional_columns_when_no_row_needs_them() -> None:
    assert _headers([_job("1"), _job("2")]) == [
        "ID",
        "TYPE",
        "STATE",
        "PROGRESS",
        "TRIES",
        "CREATED",
    ]


def test_job_table_shows_error_column_when_a_job_failed() -> None:
    failed = _job("2", JobState.FAILED, error=JobError(type="ValueError", message="boom"))
    headers = _headers([_job("1"), failed])
    assert "ERROR" in headers
    assert "RUN AT" not in headers


def test_a_long_error_is_cut_to_the_width_and_every_other_column_stays_whole() -> None:
    failed = _job("1234", JobState.FAILED, error=JobError(type="E", message="x" * 300))
    console = Console(file=StringIO(), width=80)
    console.print(render.job_table([failed], now=NOW, width=80))
    lines = _text(console).splitlines()
    assert lines[0].split()[:3] == ["ID", "TYPE", "STATE"]
    assert lines[1].split()[:3] == ["1234", "demo", "failed"]
    assert lines[1].rstrip().endswith("…") and max(map(len, lines)) <= 80


def test_job_table_shows_run_at_and_priority_for_a_delayed_priority_job() -> None:
    delayed = _job("1", JobState.DELAYED, run_at=NOW + timedelta(minutes=5), priority=3)
    headers = _headers([delayed])
    assert {"RUN AT", "PRIORITY"} <= set(headers)
    console = _console()
    console.print(render.job_table([delayed], now=NOW))
    assert "in 5m 00s" in _text(console)


def test_job_detail_shows_error_and_result() -> None:
    job = _job(
        "7",
        JobState.FAILED,
        error=JobError(type="DemoFailure", message="failed at step 3"),
        data={"steps": 5},
    )
    console = _console()
    console.print(render.job_detail(job, now=NOW))
    text = _text(console)
    assert "DemoFailure: failed at step 3" in text
    assert '"steps": 5' in text


def test_stats_view_lists_types_and_says_when_no_worker_is_alive() -> None:
    counts = {state.value: 0 for state in JobState} | {"waiting": 4, "failed": 1}
    stats = {
        "types": {
            "demo": {
                "counts": counts,
                "held": True,
                "held_until": None,
                "per_minute": 2.5,
                "oldest_waiting_seconds": 12.0,
            }
        },
        "workers": [],
    }
    console = _console()
    console.print(render.stats_view(stats, now=NOW))
    text = _text(console)
    assert "FAILED" in text and "PAUSED" not in text
    assert "until released" in text
    assert "no workers alive" in text


def _event(kind: str, state: JobState, rev: int, **fields: Any) -> Event:
    return Event(event=kind, id="42", type="demo", state=state, rev=rev, ts=NOW, **fields)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_watch_view_draws_progress_then_the_completed_mark() -> None:
    console, clock = _console(), FakeClock()
    with render.WatchView(console, clock=clock) as view:
        view.update(_event("snapshot", JobState.WAITING, 1))
        view.update(_event("active", JobState.ACTIVE, 2))
        clock.now += 5
        view.update(
            _event(
                "progress",
                JobState.ACTIVE,
                3,
                progress=Progress(percentage=50, current=5, total=10, message="step 5/10"),
            )
        )
        mid = view.progress.tasks[0]
        assert mid.percentage == 50
        assert mid.fields["count"] == "5/10"
        clock.now += 5
        view.update(
            _event(
                "completed",
                JobState.COMPLETED,
                4,
                progress=Progress(percentage=100, current=10, total=10),
            )
        )
    text = _text(console)
    assert "42" in text
    assert "10/10" in text
    assert "✓ completed" in text
    assert "0:00:10" in text  # elapsed, from the injected clock


def test_watch_view_shows_a_failed_job_with_its_error() -> None:
    console = _console()
    with render.WatchView(console, clock=FakeClock()) as view:
        view.update(_event("active", JobState.ACTIVE, 1))
        view.update(
            _event(
                "failed",
                JobState.FAILED,
                2,
                error=JobError(type="DemoFailure", message="boom at step 3"),
            )
        )
    assert "✗ failed: boom at step 3" in _text(console)


def test_watch_view_says_which_attempt_failed_and_why_while_it_retries() -> None:
    console = Console(file=StringIO(), width=140)
    retrying = Event(
        event="retrying", id="7", type="demo", state=JobState.DELAYED, rev=4, ts=NOW,
        progress=Progress(percentage=30, current=3, total=10), attempt=1,
        error=JobError(type="DemoFailure", message="failed at step 4"),
    )  # fmt: skip
    with render.WatchView(console, clock=lambda: 0.0) as view:
        view.update(retrying)
    assert "attempt 1 failed; retrying: failed at step 4" in _text(console)


def test_watch_view_cuts_a_long_message_to_keep_one_line_a_job() -> None:
    console = Console(file=StringIO(), width=90)
    event = Event(
        event="progress", id="7", type="demo", state=JobState.ACTIVE, rev=3, ts=NOW,
        progress=Progress(percentage=50, current=5, total=10, message="x" * 200),
    )  # fmt: skip
    with render.WatchView(console, clock=lambda: 0.0) as view:
        view.update(event)
    lines = [line for line in _text(console).splitlines() if line.strip()]
    assert len(lines) == 1 and "5/10" in lines[0] and "…" in lines[0]

"""Parsing of --delay, --at, --older-than and --until values."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from jq.durations import format_duration, parse_duration, parse_time
from jq.errors import UsageError

NOW = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1.5s", 1.5),
        ("250ms", 0.25),
        ("45", 45.0),
        ("0.5", 0.5),
        (" 2H ", 7200.0),
    ],
)
def test_durations_parse_to_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5 minutes", "-3s", "1e400", "5mm", "s"])
def test_bad_duration_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(text)
    assert info.value.exit_code == 2


def test_time_as_duration_counts_from_now() -> None:
    assert parse_time("30m", now=NOW) == NOW + timedelta(minutes=30)


def test_time_with_timezone_is_converted_to_utc() -> None:
    assert parse_time("2030-01-31T09:00:00+02:00") == datetime(2030, 1, 31, 7, tzinfo=UTC)
    assert parse_time("2030-01-31T09:00:00Z") == datetime(2030, 1, 31, 9, tzinfo=UTC)


def test_naive_time_is_local_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert parse_time("2030-01-31T09:00") == datetime(2030, 1, 31, 14, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_bad_time_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="ISO-8601"):
        parse_time("tomorrow-ish")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.25, "250ms"), (1.5, "1.5s"), (42, "42s"), (185, "3m 05s"), (7800, "2h 10m")],
)
def test_durations_format_compactly(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text

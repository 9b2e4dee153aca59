"""Durations (`30s`, `5m`, `2h`, `1d`, `1.5s`, bare seconds) and times given on the command line.

A point in time is ISO-8601; one without a timezone is the user's local time.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from jq.errors import UsageError

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h|d|w)?\s*$", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in `text`: `30s`, `5m`, `2h`, `1d`, `1w`, `250ms`, `1.5s` or bare seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(f"invalid duration {text!r}: use e.g. 30s, 5m, 2h, 1d or seconds")
    seconds = float(match[1]) * _UNITS[(match[2] or "s").lower()]
    if not math.isfinite(seconds):
        raise UsageError(f"invalid duration {text!r}: too large")
    return seconds


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """An aware UTC datetime from ISO-8601 (naive = local time) or a duration from `now`."""
    now = now or datetime.now(UTC)
    try:
        return now + timedelta(seconds=parse_duration(text))
    except UsageError:
        pass
    except OverflowError:
        raise UsageError(f"invalid time {text!r}: too far away") from None
    value = text.strip()
    if value.endswith(("Z", "z")):  # fromisoformat takes Z only from Python 3.11 on every form
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"invalid time {text!r}: use ISO-8601 (2030-01-31T09:00, local time unless it has"
            " a timezone) or a duration such as 30m"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is the user's local time
    return moment.astimezone(UTC)


def format_duration(seconds: float) -> str:
    """A short human duration: `850ms`, `12s`, `3m 05s`, `2h 10m`, `3d 4h`."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"

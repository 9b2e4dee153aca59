"""Everything jq prints: rich tables and views for people, JSON and NDJSON for programs.

Consoles and clocks are passed in, so every view renders the same into a StringIO in tests;
rich itself honours NO_COLOR and drops colour and animation when output is not a terminal.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from jq.durations import format_duration

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from jq.models import Event, Job

STATE_STYLES = {
    "waiting": "cyan",
    "delayed": "blue",
    "active": "yellow",
    "paused": "magenta",
    "completed": "green",
    "failed": "red",
    "aborted": "bright_black",
}
ERROR_WIDTH = 60  # an error in a table cell is cut to this many characters


PIPE_WIDTH = 160  # columns for tables written to a pipe or file

# -- streams ---------------------------------------------------------------------------------


def stdout_console() -> Console:
    """The console for data views on stdout; piped output is not squeezed into 80 columns."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)


def stderr_console() -> Console:
    """The console for messages on stderr."""
    return Console(stderr=True, highlight=False)


def write_json(obj: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def write_ndjson(obj: Any) -> None:
    """One NDJSON line on stdout, flushed so a reader sees it at once."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def write_line(text: str) -> None:
    """A bare line of data (e.g. a job id) on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def notice(text: str) -> None:
    """A message for the user on stderr."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


# -- small formats ---------------------------------------------------------------------------


def state_text(state: str) -> Text:
    return Text(str(state), style=STATE_STYLES.get(str(state), ""))


def ago(moment: datetime | None, now: datetime) -> str:
    """'3m 05s ago', 'in 10s', or '' for no time."""
    if moment is None:
        return ""
    delta = (now - moment).total_seconds()
    if abs(delta) < 1:
        return "now"
    return f"{format_duration(delta)} ago" if delta >= 0 else f"in {format_duration(-delta)}"


def _percent(job: Job) -> str:
    p = job.progress
    if job.state == "completed":
        return "100%"
    if not p.percentage and p.current is None:
        return ""
    count = f" {p.current}/{p.total}" if p.current is not None and p.total is not None else ""
    return f"{p.percentage:.0f}%{count}"


def _clock(moment: datetime | None) -> str:
    """Local time of day, to tell runs of attempts apart in an error history."""
    return moment.astimezone().strftime("%H:%M:%S") if moment else "--:--:--"


def _shorten(text: str, width: int = ERROR_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- jobs ------------------------------------------------------------------------------------


def job_table(jobs: Iterable[Job], *, now: datetime | None = None, width: int = 0) -> Table:
    """`jq ls`: one row a job; RUN AT, WORKER and ERROR columns only when some row has one.

    Given the console `width`, the error is cut to what is left of it, so the table fits.
    """
    now = now or datetime.now(UTC)
    rows = list(jobs)
    table = Table(box=None, pad_edge=False, header_style="bold")
    columns: list[tuple[str, Callable[[Job], str | Text]]] = [
        ("ID", lambda j: j.id),
        ("TYPE", lambda j: j.type),
        ("STATE", lambda j: state_text(j.state)),
        ("PROGRESS", _percent),
        ("TRIES", lambda j: f"{j.attempts_made}/{j.max_attempts}"),
        ("CREATED", lambda j: ago(j.created_at, now)),
    ]
    optional: list[tuple[str, Callable[[Job], str | Text], Callable[[Job], bool]]] = [
        ("PRIORITY", lambda j: str(j.priority), lambda j: j.priority != 0),
        ("RUN AT", lambda j: ago(j.run_at, now), lambda j: j.state == "delayed"),
        ("WORKER", lambda j: j.worker or "", lambda j: bool(j.worker)),
        (
            "ERROR",
            lambda j: _shorten(f"{j.error.type}: {j.error.message}") if j.error else "",
            lambda j: j.error is not None,
        ),
    ]
    columns += [(name, cell) for name, cell, has in optional if any(has(j) for j in rows)]
    cells = [[cell(job) for _, cell in columns] for job in rows]
    widths = [max([len(name), *(len(str(row[i])) for row in cells)]) for i, (name, _) in
              enumerate(columns)]  # fmt: skip
    if width and columns[-1][0] == "ERROR":
        # Only the error gives way on a narrow terminal; every other column keeps its width.
        room = max(10, width - sum(widths[:-1]) - 2 * (len(columns) - 1))
        for row in cells:
            row[-1] = _shorten(str(row[-1]), room)
    for name, _ in columns:
        table.add_column(name, no_wrap=True)
    for row in cells:
        table.add_row(*row)
    return table


def job_detail(job: Job, *, now: datetime | None = None) -> RenderableType:
    """`jq show`: the job's fields, one a line, with data, result and error in full."""
    now = now or datetime.now(UTC)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")

    def stamp(moment: datetime | None) -> str:
        if moment is None:
            return ""
        local = moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
        return f"{local} ({ago(moment, now)})"

    p = job.progress
    progress = _percent(job) + (f"  {p.message}" if p.message else "")
    rows: list[tuple[str, str | Text]] = [
        ("id", job.id),
        ("type", job.type),
        ("state", state_text(job.state)),
        ("progress", progress),
        ("attempts", f"{job.attempts_made}/{job.max_attempts}"),
        ("priority", str(job.priority)),
        ("created", stamp(job.created_at)),
        ("run at", stamp(job.run_at)),
        ("started", stamp(job.started_at)),
        ("finished", stamp(job.finished_at)),
        ("worker", job.worker or ""),
        ("data", json.dumps(job.data, ensure_ascii=False, indent=2)),
    ]
    if job.result is not None:
        rows.append(("result", json.dumps(job.result, ensure_ascii=False, indent=2)))
    if job.error is not None:
        rows.append(("error", Text(f"{job.error.type}: {job.error.message}", style="red")))
    if len(job.errors) > 1:
        earlier = "\n".join(
            f"{_clock(e.failed_at)} attempt {e.attempt or '?'}: {e.type}: {_shorten(e.message)}"
            for e in job.errors
        )
        rows.append(("attempts log", earlier))
    for key, value in rows:
        if value:
            grid.add_row(key, value)
    return grid


# -- task types and stats --------------------------------------------------------------------


def types_view(types: Iterable[Mapping[str, Any]]) -> RenderableType:
    """`jq types`: each type's name and description, then its fields as `jq add` flags."""
    parts: list[RenderableType] = []
    for info in types:
        title = Text.assemble((info["name"], "bold"), "  ", info["description"])
        options = ", ".join(f"{k}={v}" for k, v in info["options"].items() if v is not None)
        if options:
            title.append(f"  ({options})", "dim")
        fields = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
        fields.add_column(no_wrap=True, style="cyan")
        fields.add_column(no_wrap=True)
        fields.add_column(no_wrap=True, style="dim")
        fields.add_column(overflow="fold")
        for f in info["fields"]:
            fields.add_row(
                "  " + (f["flag"] or f"{f['name']} (--data)"),
                f["type"],
                "required" if f["required"] else f"default {json.dumps(f['default'])}",
                f["description"],
            )
        parts += [title, fields, Text("")]
    return Group(*parts[:-1])


def stats_view(stats: Mapping[str, Any], *, now: datetime | None = None) -> RenderableType:
    """`jq stats`: a table of task types and one of the workers alive."""
    now = now or datetime.now(UTC)
    types = Table(box=None, pad_edge=False, header_style="bold")
    # Like `jq ls`: a state's column only when some type has jobs in it (queued and running
    # always), so the view fits a terminal.
    states = [
        state
        for state in STATE_STYLES
        if state in ("waiting", "active")
        or any(info["counts"].get(state) for info in stats["types"].values())
    ]
    types.add_column("TYPE", no_wrap=True, style="bold")
    for state in states:
        types.add_column(state.upper(), justify="right", style=STATE_STYLES[state])
    types.add_column("DONE/MIN", justify="right")
    rows = stats["types"].values()
    show_oldest = any(info["oldest_waiting_seconds"] is not None for info in rows)
    show_hold = any(info["held"] for info in rows)
    if show_oldest:
        types.add_column("OLDEST", justify="right")
    if show_hold:
        types.add_column("HOLD")
    for name, info in stats["types"].items():
        cells = [name, *(str(info["counts"].get(state, 0)) for state in states)]
        cells.append(f"{info['per_minute']:g}")
        if show_oldest:
            oldest = info["oldest_waiting_seconds"]
            cells.append(format_duration(oldest) if oldest is not None else "")
        if show_hold:
            until = info["held_until"]
            held_until = datetime.fromisoformat(until) if until else None
            cells.append("" if not info["held"] else ago(held_until, now) or "until released")
        types.add_row(*cells)
    workers = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("WORKER", "HOST", "PID", "UP", "TYPES", "RUNNING"):
        workers.add_column(column, overflow="fold")
    for w in stats["workers"]:
        started = datetime.fromisoformat(w["started"]) if w["started"] else None
        workers.add_row(
            w["id"],
            w["host"] or "",
            str(w["pid"] or ""),
            ago(started, now).removesuffix(" ago"),
            ", ".join(f"{t} x{n}" for t, n in w["types"].items()),
            ", ".join(w["jobs"]) or "-",
        )
    parts: list[RenderableType] = []
    parts.append(types if stats["types"] else Text("no task types have had jobs yet", "dim"))
    parts.append(Text(""))
    parts.append(workers if stats["workers"] else Text("no workers alive", "dim"))
    return Group(*parts)


# -- watch -----------------------------------------------------------------------------------


BAR_WIDTH = 30
# Columns of a watch line besides the id, type, count and message: bar, percentage, two
# times, and the spaces between columns.
WATCH_FIXED = BAR_WIDTH + 4 + 7 + 7 + 8


class WatchView:
    """`jq watch` on a terminal: one progress bar a job, fed with events.

    A bar shows percentage, current/total, the latest message, elapsed time and an ETA; a
    finished job's line ends with ✓ completed or ✗ failed and its error.
    """

    def __init__(self, console: Console, *, clock: Callable[[], float] = time.monotonic) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress: Progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=BAR_WIDTH),
            TaskProgressColumn(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}"),
            console=console,
            get_time=clock,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.states: dict[str, str] = {}
        self.width = console.width

    def __enter__(self) -> WatchView:
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def update(self, event: Event) -> None:
        """Move the job's bar to what the event says."""
        task = self.tasks.get(event.id)
        if task is None:
            task = self.progress.add_task(
                f"{event.id} [dim]{event.type}[/]", total=100, start=False, count="", note=""
            )
            self.tasks[event.id] = task
        self.states[event.id] = str(event.state)
        p = event.progress
        count = f"{p.current}/{p.total}" if p.current is not None and p.total is not None else ""
        if event.state in ("active", "paused", "completed", "failed", "aborted"):
            self.progress.start_task(task)
        # Only the message gives way on a narrow terminal: it is cut to what the line has left.
        room = max(12, self.width - WATCH_FIXED - len(event.id) - len(event.type) - len(count))
        note = _escape(_shorten(p.message or "", room))
        if event.state == "completed":
            self.progress.update(task, completed=100, count=count, note="[green]✓ completed[/]")
        elif event.state in ("failed", "aborted"):
            head = f"✗ {event.state}"
            reason = (
                f": {_escape(_shorten(event.error.message, room - len(head) - 2))}"
                if event.error
                else ""
            )
            self.progress.update(task, count=count, note=f"[red]{head}{reason}[/]")
        else:
            if event.state == "paused":
                note = "[magenta]paused[/]"
            elif event.event == "retrying":
                head = f"↻ attempt {event.attempt or '?'} failed; retrying"
                why = (
                    f": {_escape(_shorten(event.error.message, room - len(head) - 2))}"
                    if event.error
                    else ""
                )
                note = f"[yellow]{head}{why}[/]"
            elif event.state in ("waiting", "delayed"):
                note = f"[dim]{event.state}[/]"
            self.progress.update(task, completed=p.percentage, count=count, note=note)
        if event.state in ("completed", "failed", "aborted"):
            self.progress.stop_task(task)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)

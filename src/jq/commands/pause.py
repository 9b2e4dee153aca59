"""`jq pause ID...`: hold single jobs back, queued or running."""

from __future__ import annotations

from jq.commands._options import JobIds
from jq.commands._run import for_each_job


def pause(ids: JobIds) -> None:
    """Pause jobs: a queued one is not started, a running one stops at its next progress report."""
    for_each_job(ids, lambda queue, jid: queue.pause_job(jid), "paused")

"""`jq resume ID...`: let paused jobs go on."""

from __future__ import annotations

from jq.commands._options import JobIds
from jq.commands._run import for_each_job


def resume(ids: JobIds) -> None:
    """Resume paused jobs."""
    for_each_job(ids, lambda queue, jid: queue.resume_job(jid), "resumed")

"""The issues' "done when" scenarios, typed as a user would type them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from jqrun import jq, jq_json

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def events_of(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_demo_job_completes_with_progress_100_and_a_result(worker: Any) -> None:
    # Delayed by 2 s so that `jq watch`, a new process, is listening before the first step.
    added = jq("add", "demo", "--steps", "5", "--interval", "0.05", "--delay", "2s")
    assert added.returncode == 0
    job_id = added.stdout.strip()
    assert job_id and "\n" not in job_id  # the bare id, nothing else

    watched = jq("watch", job_id, "--json")
    assert watched.returncode == 0, watched.stderr
    events = events_of(watched)
    assert events[0]["event"] == "snapshot" and events[0]["state"] == "delayed"
    steps = [e["progress"]["current"] for e in events if e["event"] == "progress"]
    assert steps == [1, 2, 3, 4, 5]  # one event per step, in order
    assert events[-1]["event"] == "completed"
    assert [e["rev"] for e in events] == sorted(e["rev"] for e in events)

    job = jq_json("show", job_id)
    assert job["state"] == "completed"
    assert job["progress"]["percentage"] == 100
    assert job["result"]["steps"] == 5


def test_a_failing_job_fails_after_two_attempts_two_seconds_apart(worker: Any) -> None:
    job_id = jq(
        "add", "demo", "--steps", "3", "--interval", "0", "--fail-at", "2", "--attempts", "2"
    ).stdout.strip()
    watched = jq("watch", job_id, "--json")
    assert watched.returncode == 1
    assert events_of(watched)[-1]["state"] == "failed"

    job = jq_json("show", job_id)
    assert (job["state"], job["attempts_made"]) == ("failed", 2)
    first, second = (datetime.fromisoformat(e["failed_at"]) for e in job["errors"])
    assert (second - first).total_seconds() >= 2.0  # the default backoff: 2 s
    assert job_id in [j["id"] for j in jq_json("ls", "--state", "failed")]


@pytest.fixture
def embedded_home(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment with no Redis configured: jq starts its own; stopped afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JQ_", "REDIS_"))}
    env["JQ_HOME"] = str(tmp_path / "home")
    yield env
    jq("server", "stop", env=env)


def test_with_no_redis_configured_jq_uses_its_embedded_server(
    embedded_home: dict[str, str],
) -> None:
    env = embedded_home
    job_id = jq("add", "demo", "--steps", "2", "--interval", "0", env=env).stdout.strip()
    assert job_id
    burst = jq("worker", "--burst", env=env)
    assert burst.returncode == 0, burst.stderr
    status = json.loads(jq("server", "status", "--json", env=env).stdout)
    assert status["running"] and status["url"].startswith("unix://")

    assert jq("server", "stop", env=env).returncode == 0
    shown = jq("show", job_id, "--json", env=env)  # starts the server again, from its AOF
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["state"] == "completed"


@pytest.fixture
def review_site() -> Iterator[str]:
    """examples/review_site.py on a free port; yields its first page's URL."""
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "review_site.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_scrape_reviews_collects_25_reviews_over_three_pages(
    review_site: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JQ_SCRAPE_DELAY", "0")
    job_id = jq("add", "scrape-reviews", "--maps-url", review_site, "--shop-id", "s1").stdout
    job_id = job_id.strip()
    assert jq("worker", "--burst").returncode == 0

    job = jq_json("show", job_id)
    assert job["state"] == "completed", job["error"]
    result = job["result"]
    assert (result["review_count"], result["pages_fetched"]) == (25, 3)
    assert result["average_rating"] == pytest.approx(3.84)
    assert len({(r["author"], r["text"]) for r in result["reviews"]}) == 25


def test_watch_shows_one_progress_step_per_page(
    review_site: str, redis_url: str, monkeypatch: pytest.MonkeyPatch, worker: Any
) -> None:
    monkeypatch.setenv("JQ_SCRAPE_DELAY", "0.2")
    job_id = jq(
        "add", "scrape-reviews", "--maps-url", review_site, "--shop-id", "s1", "--watch", "--json"
    ).stdout.splitlines()
    events = [json.loads(line) for line in job_id[1:]]
    pages = [e["progress"]["current"] for e in events if e["event"] == "progress"]
    assert pages == [1, 2, 3]
    assert events[-1]["result"]["review_count"] == 25

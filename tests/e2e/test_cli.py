"""`python -m jq` as a user runs it, against the private test Redis, asserting on --json output."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
import redis.asyncio
from jqrun import jq, jq_json, jq_keys, one_line_error

# -- bad input: one line, the exit code, nothing written --------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["add", "no-such-type"], 4, "unknown task type"),
        (["add", "demo", "--steps", "abc"], 2, "--steps"),
        (["add", "demo", "--data", "{oops"], 2, "--data"),
        (["add", "demo", "--steps", "-3"], 2, "steps"),
        (["add", "scrape-reviews", "--shop-id", "s1"], 2, "maps_url"),
        (["add", "demo", "--delay", "soon"], 2, "duration"),
        (["show", "nope"], 4, "no such job: nope"),
        (["watch", "nope"], 4, "no such job: nope"),
        (["rm", "nope"], 4, "no such job: nope"),
        (["ls", "--state", "sleeping"], 2, "--state"),
        (["frobnicate"], 2, "frobnicate"),
    ],
)
async def test_bad_input_is_one_line_and_writes_nothing(
    aredis: redis.asyncio.Redis, args: list[str], code: int, needle: str
) -> None:
    line = one_line_error(jq(*args), code)
    assert needle in line
    assert await jq_keys(aredis) == []


def test_unreachable_redis_exits_5_quickly_without_traceback(tmp_path: Any) -> None:
    env = dict(os.environ, JQ_REDIS_URL="redis://127.0.0.1:1")
    started = time.monotonic()
    for args in (["ls"], ["add", "demo"], ["stats"]):
        line = one_line_error(jq(*args, env=env), 5)
        assert "cannot reach Redis at redis://127.0.0.1:1" in line
    assert time.monotonic() - started < 20


def test_bad_input_is_exit_2_even_when_redis_is_down() -> None:
    env = dict(os.environ, JQ_REDIS_URL="redis://127.0.0.1:1")
    one_line_error(jq("add", "demo", "--steps", "-3", env=env), 2)


def test_bad_configuration_exits_3() -> None:
    env = dict(os.environ, JQ_REDIS_URL="http://example.com")
    assert "JQ_REDIS_URL" in one_line_error(jq("ls", env=env), 3)


# -- adding and reading -------------------------------------------------------------------------


def test_add_prints_the_bare_id_and_show_prints_the_job(redis_url: str) -> None:
    added = jq("add", "demo", "--steps", "4", "--interval", "0", "--priority", "5")
    assert added.returncode == 0, added.stderr
    job_id = added.stdout.strip()
    assert job_id and "\n" not in job_id
    job = jq_json("show", job_id)
    assert job["id"] == job_id and job["type"] == "demo" and job["state"] == "waiting"
    assert job["data"] == {"steps": 4, "interval": 0.0, "fail_at": None}
    assert job["priority"] == 5
    assert {"progress", "attempts_made", "max_attempts", "created_at", "error"} <= set(job)


def test_add_json_with_options_and_data(redis_url: str) -> None:
    added = jq_json(
        "add", "demo", "--data", '{"steps": 9, "interval": 0}', "--steps", "2",
        "--job-id", "mine", "--attempts", "5", "--delay", "5m",
    )  # fmt: skip
    assert added == {"id": "mine"}
    job = jq_json("show", "mine")
    assert job["data"]["steps"] == 2 and job["max_attempts"] == 5
    assert job["state"] == "delayed" and job["run_at"]


def test_add_at_a_time_delays_the_job(redis_url: str) -> None:
    job_id = jq_json("add", "demo", "--at", "2099-01-01T00:00:00Z")["id"]
    assert jq_json("show", job_id)["run_at"].startswith("2099-01-01T00:00:00")


def test_add_reads_data_from_a_file(redis_url: str, tmp_path: Any) -> None:
    path = tmp_path / "data.json"
    path.write_text('{"steps": 3}')
    job_id = jq_json("add", "demo", "--data-file", str(path))["id"]
    assert jq_json("show", job_id)["data"]["steps"] == 3


def test_a_duplicate_job_id_is_a_usage_error(redis_url: str) -> None:
    assert jq("add", "demo", "--job-id", "dup").returncode == 0
    one_line_error(jq("add", "demo", "--job-id", "dup"), 2)


def test_ls_filters_by_state_and_type_and_pages(redis_url: str) -> None:
    ids = [jq_json("add", "demo")["id"] for _ in range(3)]
    jq_json("add", "demo", "--delay", "1h")
    listed = jq_json("ls", "--state", "waiting", "--type", "demo")
    assert sorted(j["id"] for j in listed) == sorted(ids)
    assert len(jq_json("ls", "--limit", "2")) == 2
    assert len(jq_json("ls", "--limit", "10", "--offset", "3")) == 1
    assert jq_json("ls", "--type", "scrape-reviews") == []
    table = jq("ls")
    assert table.returncode == 0 and ids[0] in table.stdout


def test_types_lists_fields_and_options() -> None:
    described = {t["name"]: t for t in jq_json("types")}
    steps = next(f for f in described["demo"]["fields"] if f["name"] == "steps")
    assert steps == {
        "name": "steps",
        "flag": "--steps",
        "type": "integer",
        "required": False,
        "nullable": False,
        "default": 10,
        "description": "Number of steps to run.",
    }
    maps = next(f for f in described["scrape-reviews"]["fields"] if f["name"] == "maps_url")
    assert maps["required"] is True
    assert "attempts" in described["demo"]["options"]


# -- control ------------------------------------------------------------------------------------


def test_pause_resume_and_rm_of_a_queued_job(redis_url: str) -> None:
    job_id = jq_json("add", "demo")["id"]
    assert jq("pause", job_id).returncode == 0
    assert jq_json("show", job_id)["state"] == "paused"
    assert jq("resume", job_id).returncode == 0
    assert jq_json("show", job_id)["state"] == "waiting"
    assert jq_json("rm", job_id) == [{"id": job_id, "outcome": "aborted"}]
    assert jq_json("show", job_id)["state"] == "aborted"


def test_rm_handles_the_known_ids_then_exits_4_for_the_unknown(redis_url: str) -> None:
    job_id = jq_json("add", "demo")["id"]
    result = jq("rm", "ghost", job_id, "--purge", "--json")
    assert result.returncode == 4
    assert json.loads(result.stdout) == [{"id": job_id, "outcome": "purged"}]
    assert "ghost" in result.stderr
    one_line_error(jq("show", job_id), 4)


def test_resume_of_a_job_that_is_not_paused_is_a_usage_error(redis_url: str) -> None:
    job_id = jq_json("add", "demo")["id"]
    one_line_error(jq("resume", job_id), 2)


def test_retry_needs_ids_or_all_failed(redis_url: str) -> None:
    one_line_error(jq("retry"), 2)
    assert jq_json("retry", "--all-failed") == {"retried": []}


def test_retry_brings_an_aborted_job_back(redis_url: str) -> None:
    job_id = jq_json("add", "demo")["id"]
    jq_json("rm", job_id)
    assert jq_json("retry", job_id) == {"retried": [job_id]}
    assert jq_json("show", job_id)["state"] == "waiting"


def test_clean_deletes_ended_jobs(redis_url: str) -> None:
    ids = [jq_json("add", "demo")["id"] for _ in range(2)]
    jq_json("rm", *ids)
    assert jq_json("clean", "--state", "aborted", "--older-than", "1h") == {"removed": 0}
    assert jq_json("clean", "--state", "aborted") == {"removed": 2}
    one_line_error(jq("show", ids[0]), 4)
    one_line_error(jq("clean", "--state", "waiting"), 2)


def test_hold_and_release_show_in_stats(redis_url: str) -> None:
    jq_json("add", "demo")
    assert jq("hold", "demo").returncode == 0
    demo = jq_json("stats")["types"]["demo"]
    assert demo["held"] is True and demo["held_until"] is None
    assert demo["counts"]["waiting"] == 1
    assert jq("hold", "demo", "--until", "30m").returncode == 0
    assert jq_json("stats")["types"]["demo"]["held_until"] is not None
    assert jq("release", "demo").returncode == 0
    assert jq_json("stats")["types"]["demo"]["held"] is False
    one_line_error(jq("hold", "demo", "--until", "whenever"), 2)


def test_completions_prints_a_script_for_each_shell() -> None:
    for shell in ("bash", "zsh", "fish"):
        result = jq("completions", shell)
        assert result.returncode == 0 and "_JQ_COMPLETE" in result.stdout


def test_help_and_version() -> None:
    assert jq("--help").returncode == 0
    assert "demo" in jq("add", "--help").stdout
    assert "--steps" in jq("add", "demo", "--help").stdout
    assert jq("--version").stdout.startswith("jq ")


def test_watch_with_nothing_live_says_so_and_exits_0(redis_url: str) -> None:
    result = jq("watch")
    assert result.returncode == 0 and result.stdout == ""
    assert "no live jobs" in result.stderr


# -- with a worker (these need jq.worker) -------------------------------------------------------


def test_add_watch_exits_0_when_the_job_completes(worker: Any) -> None:
    result = jq("add", "demo", "--steps", "3", "--interval", "0.05", "--watch", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    job_id = lines[0]["id"]
    events = lines[1:]
    assert all(e["id"] == job_id for e in events)
    assert events[-1]["event"] == "completed" and events[-1]["state"] == "completed"
    assert jq_json("show", job_id)["result"]["steps"] == 3


def test_watch_exits_1_when_a_job_fails(worker: Any) -> None:
    job_id = jq_json(
        "add", "demo", "--steps", "3", "--interval", "0", "--fail-at", "2", "--attempts", "1"
    )["id"]
    result = jq("watch", job_id)  # stdout is a pipe: NDJSON
    assert result.returncode == 1
    last = json.loads(result.stdout.splitlines()[-1])
    assert last["state"] == "failed" and "fail_at=2" in last["error"]["message"]
    assert f"job {job_id} failed" in one_line_error(result, 1)


def test_rm_of_a_running_job_cancels_it(worker: Any) -> None:
    job_id = jq_json("add", "demo", "--steps", "100", "--interval", "0.1")["id"]
    deadline = time.monotonic() + 10
    while jq_json("show", job_id)["state"] != "active":
        assert time.monotonic() < deadline, "the worker never started the job"
        time.sleep(0.1)
    result = jq("rm", job_id, "--json")
    assert result.returncode == 0
    assert "cancellation requested" in result.stderr
    assert json.loads(result.stdout) == [{"id": job_id, "outcome": "aborted"}]


def test_stats_lists_the_live_worker(worker: Any) -> None:
    deadline = time.monotonic() + 10
    while not (workers := jq_json("stats")["workers"]):
        assert time.monotonic() < deadline, "no worker showed up in stats"
        time.sleep(0.2)
    assert workers[0]["types"]["demo"] == 2

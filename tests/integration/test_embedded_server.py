"""The embedded server for real: private socket, AOF persistence, one server per home, CLI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from jq.commands.server import app
from jq.errors import ConfigError
from jq.server import EmbeddedServer, ensure_running
from jq.settings import load_settings


@pytest.fixture
def embedded() -> Iterator[EmbeddedServer]:
    """An embedded server for the test's JQ_HOME, stopped afterwards whatever happened."""
    server = EmbeddedServer(Path(os.environ["JQ_HOME"]))
    try:
        yield server
    finally:
        server.stop()


def _client(server: EmbeddedServer) -> redis.Redis:
    return redis.Redis.from_url(server.url, socket_timeout=2.0)


def _servers_in(data_dir: Path) -> list[int]:
    """Pids of live processes whose working directory is `data_dir` (the server chdirs there)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) != data_dir:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            pids.append(int(entry.name))
    return pids


def test_started_server_answers_ping_on_a_private_socket(embedded: EmbeddedServer) -> None:
    assert not embedded.is_running()

    embedded.start()

    assert embedded.is_running()
    assert stat.S_ISSOCK(embedded.socket.stat().st_mode)
    assert stat.S_IMODE(embedded.socket.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(embedded.data_dir.stat().st_mode) == 0o700
    client = _client(embedded)
    try:
        assert client.ping() is True
        assert client.config_get("port")["port"] == "0"
        assert client.config_get("appendonly")["appendonly"] == "yes"
    finally:
        client.close()


def test_data_survives_stop_and_start(embedded: EmbeddedServer) -> None:
    embedded.start()
    client = _client(embedded)
    client.set("jq:test:kept", "yes")
    client.close()

    assert embedded.stop() is True
    assert not embedded.is_running()
    embedded.start()

    client = _client(embedded)
    try:
        assert client.get("jq:test:kept") == b"yes"
    finally:
        client.close()


def test_stop_reports_whether_it_was_running(embedded: EmbeddedServer) -> None:
    assert embedded.stop() is False
    embedded.start()

    assert embedded.stop() is True
    assert embedded.stop() is False


def test_starting_a_running_server_keeps_the_same_process(embedded: EmbeddedServer) -> None:
    embedded.start()
    first = embedded.status()["pid"]

    embedded.start()

    assert embedded.status()["pid"] == first


def test_concurrent_starts_leave_one_server(embedded: EmbeddedServer) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            EmbeddedServer(embedded.home).start()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert embedded.is_running()
    assert _servers_in(embedded.data_dir) == [embedded.status()["pid"]]


def test_server_outlives_the_process_that_started_it(embedded: EmbeddedServer) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from jq.server import EmbeddedServer\n"
        "EmbeddedServer(Path(sys.argv[1])).start()\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(embedded.home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert embedded.is_running()


def test_status_describes_a_running_server(embedded: EmbeddedServer) -> None:
    embedded.start()

    status = embedded.status()

    assert status["running"] is True
    assert isinstance(status["pid"], int)
    assert status["socket"] == str(embedded.socket)
    assert status["url"] == embedded.url
    assert status["data_dir"] == str(embedded.data_dir)
    assert status["binary"]
    assert status["version"]
    assert status["used_memory"] > 0
    assert status["aof_enabled"] is True
    assert status["aof_last_write_status"] == "ok"


def test_status_of_a_stopped_server_has_the_same_fields(embedded: EmbeddedServer) -> None:
    status = embedded.status()

    assert status["running"] is False
    assert status["pid"] is None
    assert status["used_memory"] is None
    assert status["socket"] == str(embedded.socket)


def test_long_home_runs_on_a_socket_under_tmp(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["a-rather-long-directory-name"] * 5))
    server = EmbeddedServer(deep)
    try:
        server.start()
        assert server.is_running()
        assert stat.S_IMODE(server.socket.parent.stat().st_mode) == 0o700
    finally:
        server.stop()


def test_ensure_running_starts_once_and_returns_the_url(embedded: EmbeddedServer) -> None:
    url = ensure_running(load_settings())
    pid = embedded.status()["pid"]

    assert url == embedded.url
    assert ensure_running(load_settings()) == url
    assert embedded.status()["pid"] == pid


def test_server_commands_start_report_and_stop(embedded: EmbeddedServer) -> None:
    runner = CliRunner()

    stopped = runner.invoke(app, ["status", "--json"])
    assert stopped.exit_code == 0, stopped.output
    assert json.loads(stopped.stdout)["running"] is False

    started = runner.invoke(app, ["start"])
    assert started.exit_code == 0, started.output
    assert started.stdout == ""
    assert "started" in started.stderr

    running = runner.invoke(app, ["status", "--json"])
    report = json.loads(running.stdout)
    assert report["running"] is True
    assert report["socket"] == str(embedded.socket)

    halted = runner.invoke(app, ["stop"])
    assert halted.exit_code == 0, halted.output
    assert "stopped" in halted.stderr
    assert not embedded.is_running()


def test_server_start_refuses_an_external_redis_without_leaking_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JQ_REDIS_URL", "redis://:hunter2@cache.example:6379/0")

    result = CliRunner().invoke(app, ["start"])

    assert isinstance(result.exception, ConfigError)
    assert "not in use" in str(result.exception)
    assert "hunter2" not in str(result.exception)
    assert "hunter2" not in result.output

"""Redis Sentinel: jq finds the master through the Sentinels the URL lists, with the master's
credentials from the URL, skipping a Sentinel that is down."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr

from jq.connection import client, sentinel_hosts
from jq.queue import QueueManager
from jq.settings import Settings

PASSWORD = "master-pw-7Yt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ping(port: int, password: str | None = None) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis(port=port, password=password, socket_timeout=1).ping()
            return
        except (redis.ConnectionError, redis.AuthenticationError, OSError):
            time.sleep(0.05)
    raise AssertionError(f"nothing answered on port {port}")


@pytest.fixture
def sentinel(redis_server: Any, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """A password-protected master and one Sentinel watching it: (master port, Sentinel port)."""
    master, watcher = _free_port(), _free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {watcher}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor mymaster 127.0.0.1 {master} 1\n"
        f"sentinel auth-pass mymaster {PASSWORD}\n"
    )
    common = ["--save", "", "--appendonly", "no", "--daemonize", "no"]
    procs = [
        subprocess.Popen(
            [
                redis_server.binary,
                "--port",
                str(master),
                "--bind",
                "127.0.0.1",
                "--requirepass",
                PASSWORD,
                "--dir",
                str(tmp_path),
                *common,
            ],
            stdout=subprocess.DEVNULL,
        ),
        subprocess.Popen([redis_server.binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL),
    ]
    try:
        _wait_ping(master, PASSWORD)
        _wait_ping(watcher)
        yield master, watcher
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_sentinel_addresses_are_read_from_the_url() -> None:
    url = "rediss://u:p@s1:26380,s2,[::1]:26381/3"
    assert sentinel_hosts(url) == [("s1", 26380), ("s2", 26379), ("::1", 26381)]


async def test_jobs_go_to_the_master_the_sentinels_name(sentinel: tuple[int, int]) -> None:
    master, watcher = sentinel
    dead = _free_port()  # nothing listens there: jq must move on to the next Sentinel
    settings = Settings(
        redis_url=SecretStr(f"redis://:{PASSWORD}@127.0.0.1:{dead},127.0.0.1:{watcher}/0"),
        redis_sentinel_master="mymaster",
    )
    redis_client = client(settings)
    try:
        qm = QueueManager(redis_client, settings)
        jid = await qm.add_job("demo", {"steps": 1})
        assert (await qm.get_job(jid)).state == "waiting"
    finally:
        await redis_client.aclose()
    direct = redis.Redis(port=master, password=PASSWORD, decode_responses=True)
    assert direct.hget(f"jq:job:{jid}", "state") == "waiting"
    direct.close()

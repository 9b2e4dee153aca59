"""Fixtures for the whole suite: a clean environment for every test, a private real Redis for
integration tests, fakeredis for unit tests, and markers taken from each test's folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
import redis.asyncio

_MARKERS = {"integration": "integration", "e2e": "e2e", "reliability": "reliability"}
_TESTS = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by the folder it lives in: tests/integration → `integration`, and so on."""
    for item in items:
        try:
            folder = Path(item.path).relative_to(_TESTS).parts[0]
        except ValueError:
            continue
        marker = _MARKERS.get(folder)
        if marker:
            item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No JQ_*/REDIS_* from the developer's shell, a private JQ_HOME, and no stray `.env`."""
    for name in list(os.environ):
        if name.startswith(("JQ_", "REDIS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JQ_HOME", str(tmp_path / "jq-home"))
    monkeypatch.chdir(tmp_path)


def _test_server_binary() -> str:
    """redis-server if the machine has one, else whatever jq itself would run."""
    for candidate in ("/usr/bin/redis-server", shutil.which("redis-server")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    from jq.server import find_server_binary

    return str(find_server_binary())


class RedisServer:
    """A redis-server the tests own, on a private unix socket; stop and start it at will.

    It keeps its socket and its data dir across restarts, and persists with
    `appendfsync always`, so even a SIGKILL loses nothing that was acknowledged.
    """

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.dir = directory
        self.socket = directory / "redis.sock"
        if len(os.fsencode(self.socket)) > 100:  # AF_UNIX path limit
            self.socket = Path(tempfile.mkdtemp(prefix="jq-test-", dir="/tmp")) / "redis.sock"
        self.url = "unix://" + quote(str(self.socket))
        self.logfile = directory / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self) -> redis.Redis:
        """A sync client with short timeouts, for fixtures and assertions."""
        return redis.Redis(
            unix_socket_path=str(self.socket), socket_timeout=2.0, socket_connect_timeout=1.0
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start the server (a no-op if it runs) and wait until it answers PING."""
        if self.running:
            return
        args = [
            self.binary,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--daemonize", "no",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--logfile", str(self.logfile),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"test redis-server exited: {self._log_tail()}")
            client = self.client()
            try:
                client.ping()
                return
            except (redis.ConnectionError, redis.BusyLoadingError, OSError):
                time.sleep(0.02)
            finally:
                client.close()
        self.stop(kill=True)
        raise RuntimeError(f"test redis-server did not answer PING: {self._log_tail()}")

    def stop(self, kill: bool = False, timeout: float = 10.0) -> None:
        """Stop the server: gracefully (SIGTERM, AOF flushed) or, with kill=True, by SIGKILL."""
        if self.process is None:
            return
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self, kill: bool = False) -> None:
        """Stop and start again on the same socket and data dir; data comes back from the AOF."""
        self.stop(kill=kill)
        self.start()

    def _log_tail(self) -> str:
        try:
            return " | ".join(self.logfile.read_text(errors="replace").splitlines()[-10:])
        except OSError:
            return "(no log)"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for the session, never the machine's shared one on 6379."""
    server = RedisServer(_test_server_binary(), tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop(kill=True)


@pytest.fixture
def redis_url(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty private Redis, with JQ_REDIS_URL pointing at it."""
    redis_server.start()  # a reliability test may have left it down
    client = redis_server.client()
    try:
        client.flushall()  # safe: the session fixture started this server
    finally:
        client.close()
    monkeypatch.setenv("JQ_REDIS_URL", redis_server.url)
    return redis_server.url


@pytest.fixture
async def aredis(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """An async client on the private Redis, decoding replies to str."""
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def fake_redis() -> AsyncIterator[redis.asyncio.Redis]:
    """An in-memory fakeredis with Lua (via lupa), private to the test, for unit tests."""
    import fakeredis
    import fakeredis.aioredis

    server = fakeredis.FakeServer()
    client = fakeredis.aioredis.FakeRedis(server=server, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()

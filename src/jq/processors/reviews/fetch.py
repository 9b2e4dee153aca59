"""HTTP for scrape-reviews: the worker's shared client, capped reads, status policy, robots.txt.

Status policy, in one place: 429 is `RetryLater` (after `Retry-After`, capped), 5xx and
network errors are `FetchError` (the worker retries with backoff); what each caller does with
a 4xx or an oversized body is its own business (`fetch_page` makes them `PermanentError`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jq.errors import PermanentError, RetryLater
from jq.tasks import on_worker_shutdown

if TYPE_CHECKING:
    import httpx
    from protego import Protego

    from jq.settings import Settings

__all__ = [
    "MAX_RETRY_AFTER",
    "FetchError",
    "Fetched",
    "Page",
    "RobotsPolicy",
    "close_client",
    "decode_html",
    "fetch_page",
    "get_client",
    "request",
    "retry_after_seconds",
    "set_transport",
]

# A site asking for more than this is treated as asking for "later": the worker's own
# backoff takes over rather than parking a job for hours on one header.
MAX_RETRY_AFTER = 300.0
# RFC 9309 asks crawlers to parse at least 500 KiB of robots.txt; more is not a robots file.
ROBOTS_MAX_BYTES = 512 * 1024
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class FetchError(RuntimeError):
    """Raised when a fetch failed in a way that may pass: a network error, a timeout, a 5xx,
    or a 429 without a usable Retry-After. Not a TaskError, so the worker retries with backoff."""


# --- the shared client -------------------------------------------------------------------

_client: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None
_transport: httpx.AsyncBaseTransport | None = None


def set_transport(transport: httpx.AsyncBaseTransport | None) -> None:
    """Make the next shared client send through `transport` (tests); None restores the network.

    The current client is dropped, not closed: call `close_client()` first to close it.
    """
    global _client, _transport
    _transport = transport
    _client = None


def get_client(settings: Settings) -> httpx.AsyncClient:
    """The worker's one `httpx.AsyncClient` for the running event loop, created on first use.

    A client is bound to the loop it was first used in, so a new loop gets a new client.
    """
    global _client
    loop = asyncio.get_running_loop()
    if _client is not None and _client[0] is loop and not _client[1].is_closed:
        return _client[1]
    import httpx

    limits = httpx.Limits(
        max_connections=settings.scrape_max_connections,
        max_keepalive_connections=settings.scrape_max_connections,
    )
    client = httpx.AsyncClient(
        headers={"User-Agent": settings.scrape_user_agent},
        timeout=httpx.Timeout(settings.scrape_timeout),
        limits=limits,
        follow_redirects=True,
        transport=_transport,
    )
    _client = (loop, client)
    return client


@on_worker_shutdown
async def close_client() -> None:
    """Close the shared client, if one is open in this loop; the worker calls this at shutdown."""
    global _client
    if _client is None:
        return
    loop, client = _client
    _client = None
    if loop is asyncio.get_running_loop():
        await client.aclose()


# --- requests ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """A response read up to a byte cap."""

    url: str  # after redirects
    status: int
    headers: Mapping[str, str]
    body: bytes
    truncated: bool  # the body went past the cap; `body` holds only the first `max_bytes`


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int,
    what: str = "page",
    follow_redirects: bool = True,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
) -> Fetched:
    """Send a request and read at most `max_bytes` of the answer.

    Raises `RetryLater` on 429 with a Retry-After, `FetchError` on other 429s, 5xx and network
    errors, `PermanentError` on a redirect loop. Other statuses are returned for the caller.
    """
    import httpx

    try:
        async with client.stream(
            method, url, headers=headers, json=json, follow_redirects=follow_redirects
        ) as response:
            _raise_if_retryable(response, what)
            body, truncated = await _read_capped(response, max_bytes)
            return Fetched(
                str(response.url), response.status_code, response.headers, body, truncated
            )
    except httpx.TooManyRedirects as exc:
        raise PermanentError(f"too many redirects fetching {what}: {url}") from exc
    except httpx.RequestError as exc:
        # The message alone is often empty (timeouts); the class name says what happened.
        detail = str(exc) or type(exc).__name__
        raise FetchError(f"could not fetch {what} {url}: {detail}") from exc


def _raise_if_retryable(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status == 429:
        message = f"rate limited (429) fetching {what}: {response.url}"
        delay = retry_after_seconds(response.headers.get("Retry-After"))
        if delay is None:
            raise FetchError(message)
        raise RetryLater(f"{message}; retrying in {delay:g}s", delay)
    if status >= 500:
        raise FetchError(f"server error ({status}) fetching {what}: {response.url}")


async def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    # Streaming lets a huge answer be cut off at the cap instead of landing in memory whole.
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks), False


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT; an offset-less one is too
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


# --- HTML pages --------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """An HTML page, decoded."""

    url: str  # after redirects: relative links resolve against this
    html: str


async def fetch_page(client: httpx.AsyncClient, url: str, *, max_bytes: int) -> Page:
    """Fetch an HTML page; a 4xx, a non-HTML answer or a page over `max_bytes` is a
    `PermanentError` saying which."""
    fetched = await request(client, "GET", url, max_bytes=max_bytes)
    if fetched.status == 404 or fetched.status == 410:
        raise PermanentError(f"page not found ({fetched.status}): {url}")
    if fetched.status >= 400:
        raise PermanentError(f"page refused ({fetched.status}): {url}")
    content_type = fetched.headers.get("Content-Type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    # A missing Content-Type is common on small sites; the parser copes with whatever it is.
    if mime and mime not in HTML_TYPES:
        raise PermanentError(f"not an HTML page (Content-Type {mime}): {url}")
    if fetched.truncated:
        raise PermanentError(
            f"page larger than {max_bytes} bytes: {url}"
            " (raise JQ_SCRAPE_MAX_PAGE_BYTES to allow bigger pages)"
        )
    return Page(fetched.url, decode_html(fetched.body, content_type))


_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_META = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)


def decode_html(body: bytes, content_type: str = "") -> str:
    """Decode an HTML body: the header's charset, else a `<meta>` one, else UTF-8; bytes that do
    not fit become U+FFFD rather than failing the page."""
    for declared in (_charset_of(content_type.encode("latin-1", "replace")), _meta_charset(body)):
        if declared:
            try:
                return body.decode(declared, errors="replace")
            except LookupError:  # an encoding name Python does not know: try the next source
                continue
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    return body.decode("utf-8", errors="replace")


def _charset_of(text: bytes) -> str | None:
    match = _CHARSET_PARAM.search(text)
    return match.group(1).decode("ascii") if match else None


def _meta_charset(body: bytes) -> str | None:
    # Browsers look for the <meta> declaration in the first 1024 bytes; so do we.
    for tag in _META.findall(body[:1024]):
        charset = _charset_of(tag)
        if charset:
            return charset
    return None


# --- robots.txt --------------------------------------------------------------------------


@dataclass
class RobotsPolicy:
    """robots.txt rules per origin, fetched once per job."""

    client: httpx.AsyncClient
    user_agent: str
    _rules: dict[str, Protego | None] = field(default_factory=dict)

    async def allows(self, url: str) -> bool:
        """Whether robots.txt lets us fetch `url`; a missing robots.txt allows everything."""
        rules = await self._rules_for(url)
        return rules is None or bool(rules.can_fetch(url, self.user_agent))

    async def crawl_delay(self, url: str) -> float:
        """The Crawl-delay robots.txt asks of us for `url`'s host, or 0."""
        rules = await self._rules_for(url)
        delay = rules.crawl_delay(self.user_agent) if rules is not None else None
        return float(delay or 0.0)

    async def _rules_for(self, url: str) -> Protego | None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._rules:
            self._rules[origin] = await self._load(f"{origin}/robots.txt")
        return self._rules[origin]

    async def _load(self, robots_url: str) -> Protego | None:
        # RFC 9309: a 4xx means no rules; a 5xx (raised by `request`) means try again later.
        fetched = await request(
            self.client, "GET", robots_url, max_bytes=ROBOTS_MAX_BYTES, what="robots.txt"
        )
        if fetched.status >= 400:
            return None
        from protego import Protego

        return Protego.parse(fetched.body.decode("utf-8", errors="replace"))

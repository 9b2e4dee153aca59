"""scrape-reviews against a real local web site: a threading HTTP server on 127.0.0.1:0 whose
routes each test sets, with the processor called directly and its progress recorded."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest.mock import AsyncMock

import pytest

from jq.errors import PermanentError, RetryLater, TaskError
from jq.processors.reviews.fetch import FetchError, close_client, set_transport
from jq.processors.scrape_reviews import ScrapeReviewsInput, ScrapeReviewsResult, scrape_reviews

HTML = {"Content-Type": "text/html; charset=utf-8"}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: dict(HTML))


@dataclass
class Site:
    """Routes (path with query → replies, served in turn, the last one repeating) and hits."""

    url: str = ""
    routes: dict[str, list[Reply]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    def serve(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def page(self, path: str, html: str, **headers: str) -> None:
        self.serve(path, Reply(body=html.encode(), headers={**HTML, **headers}))

    def reply(self, path: str) -> Reply:
        self.hits.append(path)
        replies = self.routes.get(path)
        if not replies:
            return Reply(404, b"not here", {"Content-Type": "text/plain"})
        return replies.pop(0) if len(replies) > 1 else replies[0]


@pytest.fixture
def site() -> Iterator[Site]:
    """A local HTTP server for one test; unknown paths (robots.txt too, unless set) are 404."""
    served = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = served.reply(self.path)
            self.send_response(reply.status)
            for name, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # the client hanging up on a huge page is expected, not a failure

    server = Server(("127.0.0.1", 0), Handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
async def _shared_client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """No politeness delay, the real network stack, and the shared client closed afterwards."""
    monkeypatch.setenv("JQ_SCRAPE_DELAY", "0")
    set_transport(None)
    yield
    await close_client()


async def run(url: str, progress: AsyncMock | None = None, **data: Any) -> ScrapeReviewsResult:
    """Run the processor as the worker would; `progress` records the update_progress calls."""
    job = ScrapeReviewsInput(maps_url=url, shop_id="shop-123", **data)
    return await scrape_reviews(id="job-1", data=job, update_progress=progress or AsyncMock())


def steps(progress: AsyncMock) -> list[Mapping[str, Any]]:
    return [awaited.kwargs for awaited in progress.await_args_list]


def review(i: int, **changes: Any) -> dict[str, Any]:
    """The i-th review of the test shop, as JSON-LD; ratings 5, 4, 2 in turn."""
    return {
        "@type": "Review",
        "author": {"@type": "Person", "name": f"Reviewer {i}"},
        "reviewRating": {"@type": "Rating", "ratingValue": (5, 4, 2)[i % 3]},
        "reviewBody": f"Review number {i}.",
        "datePublished": f"2024-03-{i + 1:02d}",
        **changes,
    }


def json_ld_page(data: Any, next_link: str = "", head: str = "") -> str:
    block = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    return f"<html><head>{head}{block}{next_link}</head><body>Reviews</body></html>"


async def test_three_paginated_pages_with_duplicates_and_a_loop_give_25_reviews(
    site: Site,
) -> None:
    # Page 1: a top-level list; page 2: an @graph; page 3: a business's review list.
    # Reviews 8 and 16 appear on two pages (re-spaced the second time); page 3 links back to 1.
    site.page(
        "/shop",
        json_ld_page([review(i) for i in range(9)], '<link rel="next" href="/shop?page=2">'),
    )
    graph = [review(8, reviewBody="  Review   number 8. ")] + [review(i) for i in range(9, 17)]
    page_2 = {"@context": "https://schema.org", "@graph": graph}
    site.page(
        "/shop?page=2",
        json_ld_page(page_2).replace("</body>", '<a rel="next" href="?page=3">3</a></body>'),
    )
    business = {
        "@type": "LocalBusiness",
        "name": "Shop",
        "review": [review(i) for i in range(16, 25)],
    }
    site.page("/shop?page=3", json_ld_page(business, '<link rel="next" href="/shop">'))
    progress = AsyncMock()

    result = await run(f"{site.url}/shop", progress)

    assert result.review_count == 25
    assert len({r.author for r in result.reviews}) == 25
    assert result.average_rating == 3.72  # (9 x 5 + 8 x 4 + 8 x 2) / 25
    assert result.pages_fetched == 3
    assert result.shop_id == "shop-123"
    assert result.stopped == "next page was already fetched (pagination loops)"
    assert [(c["current"], c["total"]) for c in steps(progress)] == [(1, 10), (2, 10), (3, 3)]
    assert steps(progress)[-1]["percentage"] == 100.0
    assert "25 reviews so far" in steps(progress)[-1]["message"]
    assert f"{site.url}/shop?page=3" in steps(progress)[-1]["message"]
    assert site.hits.count("/shop") == 1
    assert site.hits.count("/robots.txt") == 1
    first = result.reviews[0]
    assert (first.author, first.rating, first.text) == ("Reviewer 0", 5.0, "Review number 0.")
    assert (first.published_at, first.url) == ("2024-03-01", f"{site.url}/shop")
    assert ScrapeReviewsResult.model_validate_json(result.model_dump_json()) == result


async def test_microdata_page_is_read(site: Site) -> None:
    site.page(
        "/shop",
        """<div itemscope itemtype="https://schema.org/LocalBusiness"><h1 itemprop="name">Shop</h1>
        <div itemprop="review" itemscope itemtype="https://schema.org/Review">
          <span itemprop="author" itemscope itemtype="https://schema.org/Person">
            <span itemprop="name">Ana</span></span>
          <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
            <meta itemprop="ratingValue" content="4"></div>
          <time itemprop="datePublished" datetime="2024-05-01">May 1</time>
          <p itemprop="reviewBody">Good coffee.</p></div></div>""",
    )

    result = await run(f"{site.url}/shop")

    assert [(r.author, r.rating, r.text, r.published_at) for r in result.reviews] == [
        ("Ana", 4.0, "Good coffee.", "2024-05-01")
    ]


async def test_malformed_json_ld_block_does_not_hide_a_valid_one(site: Site) -> None:
    broken = '<script type="application/ld+json">{"@type": "Review", "author": </script>'
    site.page("/shop", json_ld_page([review(1)], head=broken))

    result = await run(f"{site.url}/shop")

    assert [r.author for r in result.reviews] == ["Reviewer 1"]


async def test_non_utf8_page_is_decoded_with_its_declared_charset(site: Site) -> None:
    html = json_ld_page([review(1, author="Zoë Müller")], head='<meta charset="iso-8859-1">')
    site.serve("/shop", Reply(body=html.encode("latin-1"), headers={"Content-Type": "text/html"}))

    result = await run(f"{site.url}/shop")

    assert result.reviews[0].author == "Zoë Müller"


async def test_undeclared_bad_bytes_become_replacement_characters(site: Site) -> None:
    # A lone \xe9 (Latin-1 "é") is not UTF-8, and nothing declares another charset.
    body = json_ld_page([review(1, author="Caf@")]).encode().replace(b"Caf@", b"Caf\xe9")
    site.serve("/shop", Reply(body=body, headers={"Content-Type": "text/html"}))

    result = await run(f"{site.url}/shop")

    assert result.reviews[0].author == "Caf\N{REPLACEMENT CHARACTER}"


async def test_429_is_retried_after_its_retry_after_then_succeeds(site: Site) -> None:
    site.serve(
        "/shop",
        Reply(429, b"slow down", {"Retry-After": "7"}),
        Reply(body=json_ld_page([review(1)]).encode()),
    )

    with pytest.raises(RetryLater) as raised:
        await run(f"{site.url}/shop")
    result = await run(f"{site.url}/shop")

    assert raised.value.delay == 7.0
    assert "429" in str(raised.value)
    assert result.review_count == 1


async def test_500_is_an_ordinary_retryable_error_every_time(site: Site) -> None:
    site.serve("/shop", Reply(500, b"oops"))

    for _attempt in range(3):
        with pytest.raises(FetchError, match=r"server error \(500\)") as raised:
            await run(f"{site.url}/shop")
        assert not isinstance(raised.value, TaskError)  # the worker backs off and retries

    assert site.hits.count("/shop") == 3


async def test_404_fails_permanently_naming_the_page(site: Site) -> None:
    with pytest.raises(PermanentError, match=r"page not found \(404\): http://.*/gone"):
        await run(f"{site.url}/gone")


async def test_non_html_answer_fails_permanently(site: Site) -> None:
    site.serve("/shop", Reply(body=b"{}", headers={"Content-Type": "application/json"}))

    with pytest.raises(PermanentError, match=r"not an HTML page \(Content-Type application/json\)"):
        await run(f"{site.url}/shop")


async def test_robots_txt_disallow_fails_permanently_without_fetching_the_page(site: Site) -> None:
    site.serve("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /shop\n", headers={}))
    site.page("/shop", json_ld_page([review(1)]))

    with pytest.raises(PermanentError, match=r"robots\.txt disallows"):
        await run(f"{site.url}/shop")

    assert "/shop" not in site.hits


async def test_robots_txt_is_ignored_when_the_setting_says_so(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JQ_SCRAPE_OBEY_ROBOTS", "false")
    site.serve("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /\n", headers={}))
    site.page("/shop", json_ld_page([review(1)]))

    result = await run(f"{site.url}/shop")

    assert result.review_count == 1
    assert "/robots.txt" not in site.hits


async def test_robots_txt_server_error_is_retryable(site: Site) -> None:
    site.serve("/robots.txt", Reply(503, b"down"))

    with pytest.raises(FetchError, match=r"robots\.txt"):
        await run(f"{site.url}/shop")


async def test_page_without_reviews_fails_permanently(site: Site) -> None:
    site.page("/shop", "<html><body><h1>Our shop</h1><p>No reviews yet.</p></body></html>")

    with pytest.raises(PermanentError, match="no reviews found on 1 page"):
        await run(f"{site.url}/shop")


async def test_huge_page_fails_permanently_naming_the_setting(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JQ_SCRAPE_MAX_PAGE_BYTES", "100000")
    filler = "<p>" + "x" * 1_000_000 + "</p>"
    site.page("/shop", json_ld_page([review(1)], head=filler))

    with pytest.raises(PermanentError, match=r"larger than 100000 bytes.*JQ_SCRAPE_MAX_PAGE_BYTES"):
        await run(f"{site.url}/shop")


async def test_broken_later_page_ends_the_walk_but_keeps_earlier_reviews(site: Site) -> None:
    site.page("/shop", json_ld_page([review(1)], '<link rel="next" href="/shop/2">'))

    result = await run(f"{site.url}/shop")

    assert result.review_count == 1
    assert result.pages_fetched == 1
    assert result.stopped == f"page 2: page not found (404): {site.url}/shop/2"


async def test_max_pages_limits_the_walk(site: Site) -> None:
    for n in range(1, 5):
        site.page(f"/p{n}", json_ld_page([review(n)], f'<link rel="next" href="/p{n + 1}">'))
    progress = AsyncMock()

    result = await run(f"{site.url}/p1", progress, max_pages=2)

    assert (result.pages_fetched, result.review_count, result.stopped) == (
        2,
        2,
        "max_pages reached",
    )
    assert [(c["current"], c["total"]) for c in steps(progress)] == [(1, 2), (2, 2)]
    assert "/p3" not in site.hits


async def test_max_reviews_caps_the_result_and_stops_the_walk(site: Site) -> None:
    site.page("/p1", json_ld_page([review(i) for i in range(3)], '<link rel="next" href="/p2">'))

    result = await run(f"{site.url}/p1", max_reviews=2)

    assert (result.review_count, result.pages_fetched) == (2, 1)
    assert result.stopped == "max_reviews reached"
    assert "/p2" not in site.hits


async def test_pages_are_spaced_by_the_delay_or_robots_crawl_delay(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JQ_SCRAPE_DELAY", "0.5")
    site.serve("/robots.txt", Reply(body=b"User-agent: *\nCrawl-delay: 2\n", headers={}))
    for n in range(1, 4):
        next_link = f'<link rel="next" href="/p{n + 1}">' if n < 3 else ""
        site.page(f"/p{n}", json_ld_page([review(n)], next_link))
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def record(delay: float, *args: Any) -> None:
        if delay:
            slept.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", record)

    await run(f"{site.url}/p1")

    assert slept == [2.0, 2.0]  # none before the first page; the larger of the two after

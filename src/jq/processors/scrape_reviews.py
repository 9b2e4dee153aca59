"""The `scrape-reviews` task type: collect a shop's reviews from its web page or Google Maps link.

Web pages are read for schema.org `Review` data (JSON-LD and microdata) and followed through
rel=next pagination; Google Maps links go through the Google Places API. The parts live in
`jq.processors.reviews`; docs/scrape-reviews.md is the user's guide. Outcomes:

- 404/410 or another 4xx, a non-HTML answer, a page over JQ_SCRAPE_MAX_PAGE_BYTES, a URL that
  robots.txt disallows, a Maps link without JQ_GOOGLE_PLACES_API_KEY: `PermanentError` naming it,
  when it happens on the first page. On a later page it ends the walk instead: the reviews
  gathered so far are kept and `stopped` says why.
- No reviews on any page: `PermanentError`. An empty success would hide the usual causes (a
  wrong URL, reviews drawn by JavaScript), and retrying cannot help. A Maps place with no reviews
  is an empty success: the API's answer is authoritative.
- 429: `RetryLater` after Retry-After (capped at 300 s); without one, and on 5xx or a network
  error, an ordinary error the worker retries with backoff. The job restarts from page one.
- Malformed JSON-LD blocks are skipped; bytes that do not fit the declared charset become U+FFFD.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urlsplit

from pydantic import BaseModel, Field, field_validator

from jq.errors import PermanentError
from jq.processors.reviews import Review
from jq.tasks import UpdateProgress, task

if TYPE_CHECKING:
    import httpx

    from jq.settings import Settings

__all__ = ["ScrapeReviewsInput", "ScrapeReviewsResult", "scrape_reviews"]


class ScrapeReviewsInput(BaseModel):
    maps_url: str = Field(
        description="The shop's page: a web page with reviews, or a Google Maps link (http/https)."
    )
    shop_id: str = Field(min_length=1, description="Your id for the shop, copied to the result.")
    max_pages: int = Field(default=10, ge=1, le=1000, description="Most pages to follow.")
    max_reviews: int | None = Field(
        default=None, ge=1, description="Stop after this many reviews (default: no limit)."
    )

    @field_validator("maps_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http:// or https:// URL")
        return value

    @field_validator("shop_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class ScrapeReviewsResult(BaseModel):
    shop_id: str
    source_url: str
    pages_fetched: int = Field(description="Pages read (one for a Places API lookup).")
    review_count: int
    average_rating: float | None = Field(description="Mean of the rated reviews, 2 decimals.")
    reviews: list[Review]
    stopped: str = Field(description="Why the walk ended: last page, a limit, or a page's error.")
    fetched_at: datetime


@task("scrape-reviews", input=ScrapeReviewsInput, result=ScrapeReviewsResult)
async def scrape_reviews(
    *, id: str, data: ScrapeReviewsInput, update_progress: UpdateProgress
) -> ScrapeReviewsResult:
    """Collect a shop's reviews from its web page (schema.org data) or Google Maps link."""
    from jq.processors.reviews.fetch import get_client
    from jq.processors.reviews.places import is_maps_url
    from jq.settings import load_settings

    # Read at call time: a worker picks up changed settings on restart, tests on every call.
    settings = load_settings()
    client = get_client(settings)
    if is_maps_url(data.maps_url):
        crawl = await _from_places(client, data, settings, update_progress)
    else:
        crawl = await _Crawl(client, data, settings, update_progress).run()
    reviews = crawl.reviews[: data.max_reviews]
    ratings = [review.rating for review in reviews if review.rating is not None]
    return ScrapeReviewsResult(
        shop_id=data.shop_id,
        source_url=data.maps_url,
        pages_fetched=crawl.pages,
        review_count=len(reviews),
        average_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
        reviews=reviews,
        stopped=crawl.stopped,
        fetched_at=datetime.now(UTC),
    )


@dataclass(frozen=True)
class _Outcome:
    pages: int
    reviews: list[Review]
    stopped: str


async def _from_places(
    client: httpx.AsyncClient,
    data: ScrapeReviewsInput,
    settings: Settings,
    update_progress: UpdateProgress,
) -> _Outcome:
    from jq.processors.reviews.places import fetch_place

    place = await fetch_place(client, data.maps_url, settings)
    count = len(place.reviews)
    await update_progress(
        percentage=100.0, current=1, total=1,
        message=f"place {place.name or place.id}: {count} reviews",
    )  # fmt: skip
    return _Outcome(pages=1, reviews=place.reviews, stopped="Google Places API")


class _Crawl:
    """One walk through a site's rel=next pages, gathering unique reviews in order."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        data: ScrapeReviewsInput,
        settings: Settings,
        update_progress: UpdateProgress,
    ) -> None:
        from jq.processors.reviews.fetch import RobotsPolicy

        self.client = client
        self.data = data
        self.settings = settings
        self.update_progress = update_progress
        self.robots = RobotsPolicy(client, settings.scrape_user_agent)
        self.reviews: list[Review] = []
        self.seen: set[tuple[object, ...]] = set()

    async def run(self) -> _Outcome:
        visited: set[str] = set()
        start_url = self.data.maps_url
        url: str | None = start_url
        pages = 0
        stopped = "last page"
        while url is not None:
            try:
                await self._before_fetch(url, first=pages == 0)
                page_url, next_url = await self._read_page(url)
            except PermanentError as exc:
                # A broken later page must not throw away the pages before it.
                if pages == 0:
                    raise
                stopped = f"page {pages + 1}: {exc}"
                break
            pages += 1
            visited.update({_normal(url), _normal(page_url)})
            url, stopped = self._next(next_url, visited, pages)
            total = pages if url is None else self.data.max_pages
            await self.update_progress(
                percentage=100.0 * pages / total, current=pages, total=total,
                message=f"page {pages}: {page_url} ({len(self.reviews)} reviews so far)",
            )  # fmt: skip
        if not self.reviews:
            raise PermanentError(
                f"no reviews found on {pages} page(s) from {start_url}: the pages carry no"
                " schema.org Review data (JSON-LD or microdata)"
            )
        return _Outcome(pages=pages, reviews=self.reviews, stopped=stopped)

    def _next(self, next_url: str | None, visited: set[str], pages: int) -> tuple[str | None, str]:
        if self.data.max_reviews is not None and len(self.reviews) >= self.data.max_reviews:
            return None, "max_reviews reached"
        if next_url is None:
            return None, "last page"
        if _normal(next_url) in visited:
            return None, "next page was already fetched (pagination loops)"
        if pages >= self.data.max_pages:
            return None, "max_pages reached"
        return next_url, ""

    async def _before_fetch(self, url: str, *, first: bool) -> None:
        delay = 0.0 if first else self.settings.scrape_delay
        if self.settings.scrape_obey_robots:
            if not await self.robots.allows(url):
                raise PermanentError(f"robots.txt disallows fetching {url}")
            if not first:
                delay = max(delay, await self.robots.crawl_delay(url))
        if delay:
            await asyncio.sleep(delay)

    async def _read_page(self, url: str) -> tuple[str, str | None]:
        from jq.processors.reviews.extract import extract
        from jq.processors.reviews.fetch import fetch_page

        page = await fetch_page(self.client, url, max_bytes=self.settings.scrape_max_page_bytes)
        found = extract(page.html, page.url)
        for review in found.reviews:
            key = review.identity()
            if key not in self.seen:
                self.seen.add(key)
                self.reviews.append(review)
        return page.url, found.next_url


def _normal(url: str) -> str:
    return urldefrag(url)[0]

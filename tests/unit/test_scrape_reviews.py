"""scrape-reviews' input checks, registration, Retry-After reading and the shared HTTP client."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import ValidationError

from jq.processors.reviews.fetch import (
    MAX_RETRY_AFTER,
    close_client,
    get_client,
    retry_after_seconds,
)
from jq.processors.scrape_reviews import ScrapeReviewsInput, ScrapeReviewsResult
from jq.settings import Settings
from jq.tasks import get_task_type


@pytest.mark.parametrize(
    "url",
    [
        "example.com/shop",
        "/shop",
        "ftp://example.com/shop",
        "file:///etc/passwd",
        "http://",
        "https:///path-only",
        "",
        "javascript:alert(1)",
    ],
)
def test_input_rejects_anything_but_an_absolute_http_url(url: str) -> None:
    with pytest.raises(ValidationError, match="absolute http"):
        ScrapeReviewsInput(maps_url=url, shop_id="shop-123")


def test_input_accepts_web_and_maps_urls_and_strips_spaces() -> None:
    data = ScrapeReviewsInput(maps_url=" https://maps.app.goo.gl/abc ", shop_id=" shop-123 ")

    assert (data.maps_url, data.shop_id) == ("https://maps.app.goo.gl/abc", "shop-123")
    assert (data.max_pages, data.max_reviews) == (10, None)


@pytest.mark.parametrize(
    "fields",
    [
        {"shop_id": ""},
        {"shop_id": "   "},
        {"max_pages": 0},
        {"max_pages": 1001},
        {"max_reviews": 0},
    ],
)
def test_input_rejects_blank_shop_and_out_of_range_limits(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ScrapeReviewsInput.model_validate({"maps_url": "http://x.test/", "shop_id": "s", **fields})


def test_task_is_registered_with_its_models_and_described_flags() -> None:
    task_type = get_task_type("scrape-reviews")

    assert task_type.input_model is ScrapeReviewsInput
    assert task_type.result_model is ScrapeReviewsResult
    assert task_type.description
    assert all(field.description for field in ScrapeReviewsInput.model_fields.values())
    with pytest.raises(ValidationError):
        task_type.validate({"maps_url": "not a url", "shop_id": "shop-123"})


def test_importing_the_task_leaves_http_and_parsers_unloaded() -> None:
    code = (
        "import sys, jq.processors.scrape_reviews; "
        "print(sorted(m for m in ('httpx', 'selectolax', 'protego') if m in sys.modules))"
    )
    # The child sees the same import path as this process, however pytest was started.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)

    assert (out.returncode, out.stdout.strip()) == (0, "[]"), out.stderr


NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        ("Sat, 01 Jun 2024 12:00:30 GMT", 30.0),
        ("Sat, 01 Jun 2024 11:00:00 GMT", 0.0),  # in the past: now
        ("86400", MAX_RETRY_AFTER),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_or_http_dates_and_is_capped(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


async def test_shared_client_is_reused_in_a_loop_and_closed_at_shutdown() -> None:
    settings = Settings()
    client = get_client(settings)

    assert get_client(settings) is client
    assert client.headers["User-Agent"] == settings.scrape_user_agent
    await close_client()
    assert client.is_closed
    assert get_client(settings) is not client
    await close_client()


def test_each_event_loop_gets_its_own_shared_client() -> None:
    async def client() -> httpx.AsyncClient:
        return get_client(Settings())

    async def used_then_closed() -> httpx.AsyncClient:
        try:
            return await client()
        finally:
            await close_client()

    first = asyncio.run(client())  # left open, as a loop that ended without shutting down would
    second = asyncio.run(used_then_closed())

    assert first is not second
    assert second.is_closed

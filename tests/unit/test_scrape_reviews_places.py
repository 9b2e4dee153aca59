"""Google Maps links: reading them, and scrape-reviews through a fake Places API (New, v1) served
by httpx.MockTransport in the API's real response shape."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any
from unittest.mock import AsyncMock

import httpx
import pytest

from jq.errors import PermanentError, RetryLater
from jq.processors.reviews.fetch import close_client, set_transport
from jq.processors.reviews.places import PlaceQuery, is_maps_url, place_query
from jq.processors.scrape_reviews import ScrapeReviewsInput, ScrapeReviewsResult, scrape_reviews

KEY = "test-key-123"
BASE = "https://places.test/v1"
MAPS = "https://www.google.com/maps"
PLACE_ID = "ChIJN1t_tDeuEmsRUsoyG83frY4"
DETAILS = {
    "id": PLACE_ID,
    "displayName": {"text": "Café Central", "languageCode": "de"},
    "rating": 4.4,
    "googleMapsUri": f"https://maps.google.com/?cid=123&place={PLACE_ID}",
    "reviews": [
        {
            "name": f"places/{PLACE_ID}/reviews/r1",
            "relativePublishTimeDescription": "a week ago",
            "rating": 5,
            "text": {"text": "Great cake.", "languageCode": "en"},
            "originalText": {"text": "Toller Kuchen.", "languageCode": "de"},
            "authorAttribution": {
                "displayName": "Ana",
                "uri": "https://www.google.com/maps/contrib/1",
                "photoUri": "https://lh3.googleusercontent.com/a/1",
            },
            "publishTime": "2024-05-02T10:11:12.123456Z",
            "flagContentUri": "https://www.google.com/local/review/rap/report?r1",
            "googleMapsUri": "https://www.google.com/maps/reviews/data=r1",
        },
        {
            "name": f"places/{PLACE_ID}/reviews/r2",
            "relativePublishTimeDescription": "a month ago",
            "rating": 2,
            "originalText": {"text": "Zu laut.", "languageCode": "de"},
            "authorAttribution": {
                "displayName": "Bo",
                "uri": "https://www.google.com/maps/contrib/2",
            },
            "publishTime": "2024-04-01T08:00:00Z",
        },
    ],
}


class FakeGoogle:
    """The Places API (search and details) and the short-link redirector; records requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.details: dict[str, Any] = DETAILS
        self.override: Callable[[httpx.Request], httpx.Response | None] = lambda request: None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.override(request)
        if answer is not None:
            return answer
        url = str(request.url)
        if url == "https://maps.app.goo.gl/abc":
            place = "https://www.google.com/maps/place/Caf%C3%A9+Central/@48.21,16.36,17z"
            return httpx.Response(302, headers={"Location": place})
        if request.headers.get("X-Goog-Api-Key") != KEY:
            return api_error(403, "PERMISSION_DENIED", "API key not valid.")
        if request.method == "POST" and url == f"{BASE}/places:searchText":
            found = {"id": PLACE_ID, "displayName": {"text": "Café Central", "languageCode": "de"}}
            return httpx.Response(200, json={"places": [found]})
        if request.method == "GET" and url == f"{BASE}/places/{PLACE_ID}":
            return httpx.Response(200, json=self.details)
        return api_error(404, "NOT_FOUND", f"not found: {url}")

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.host}{r.url.path}" for r in self.requests]


def api_error(code: int, status: str, message: str) -> httpx.Response:
    return httpx.Response(
        code, json={"error": {"code": code, "message": message, "status": status}}
    )


@pytest.fixture
async def google(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeGoogle]:
    monkeypatch.setenv("JQ_GOOGLE_PLACES_API_KEY", KEY)
    monkeypatch.setenv("JQ_GOOGLE_PLACES_BASE_URL", BASE)
    fake = FakeGoogle()
    set_transport(httpx.MockTransport(fake))
    try:
        yield fake
    finally:
        await close_client()
        set_transport(None)


async def run(url: str, progress: AsyncMock | None = None) -> ScrapeReviewsResult:
    data = ScrapeReviewsInput(maps_url=url, shop_id="shop-123")
    return await scrape_reviews(id="job-1", data=data, update_progress=progress or AsyncMock())


async def test_maps_place_link_is_searched_then_its_reviews_read(google: FakeGoogle) -> None:
    url = "https://www.google.com/maps/place/Caf%C3%A9+Central/@48.2104,16.3655,17z/data=!3m1"
    progress = AsyncMock()

    result = await run(url, progress)

    assert google.paths() == [
        "POST places.test/v1/places:searchText",
        f"GET places.test/v1/places/{PLACE_ID}",
    ]
    search, details = google.requests
    assert json.loads(search.content) == {
        "textQuery": "Café Central",
        "pageSize": 1,
        "locationBias": {
            "circle": {"center": {"latitude": 48.2104, "longitude": 16.3655}, "radius": 500.0}
        },
    }
    assert search.headers["X-Goog-FieldMask"] == "places.id,places.displayName"
    assert details.headers["X-Goog-FieldMask"] == "id,displayName,rating,reviews,googleMapsUri"
    assert (result.pages_fetched, result.review_count, result.average_rating) == (1, 2, 3.5)
    ana, bo = result.reviews
    assert (ana.author, ana.rating, ana.text) == ("Ana", 5.0, "Great cake.")
    assert ana.published_at == "2024-05-02T10:11:12.123456Z"
    assert ana.url == "https://www.google.com/maps/reviews/data=r1"
    assert (bo.author, bo.rating, bo.text) == ("Bo", 2.0, "Zu laut.")  # only originalText
    assert bo.url == DETAILS["googleMapsUri"]  # no link of its own: the place's
    progress.assert_awaited_once_with(
        percentage=100.0, current=1, total=1, message="place Café Central: 2 reviews"
    )
    assert KEY not in result.model_dump_json()


async def test_link_with_a_place_id_skips_the_search(google: FakeGoogle) -> None:
    url = f"https://www.google.com/maps/search/?api=1&query=cafe&query_place_id={PLACE_ID}"

    result = await run(url)

    assert google.paths() == [f"GET places.test/v1/places/{PLACE_ID}"]
    assert result.review_count == 2


async def test_short_link_is_followed_to_the_full_link_without_fetching_maps(
    google: FakeGoogle,
) -> None:
    result = await run("https://maps.app.goo.gl/abc")

    assert google.paths() == [
        "GET maps.app.goo.gl/abc",
        "POST places.test/v1/places:searchText",
        f"GET places.test/v1/places/{PLACE_ID}",
    ]
    assert "X-Goog-Api-Key" not in google.requests[0].headers
    assert result.review_count == 2


async def test_place_without_reviews_is_an_empty_result(google: FakeGoogle) -> None:
    google.details = {"id": PLACE_ID, "displayName": {"text": "New Shop"}}

    result = await run(f"https://www.google.com/maps?q=place_id:{PLACE_ID}")

    assert (result.review_count, result.average_rating, result.reviews) == (0, None, [])


async def test_maps_link_without_api_key_fails_at_once_saying_what_to_set(
    google: FakeGoogle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JQ_GOOGLE_PLACES_API_KEY")

    with pytest.raises(PermanentError, match="set JQ_GOOGLE_PLACES_API_KEY"):
        await run("https://maps.app.goo.gl/abc")

    assert google.requests == []


async def test_api_refusal_fails_permanently_without_showing_the_key(google: FakeGoogle) -> None:
    google.override = lambda request: api_error(400, "INVALID_ARGUMENT", f"bad key {KEY}")

    with pytest.raises(PermanentError, match="INVALID_ARGUMENT") as raised:
        await run(f"https://www.google.com/maps/place/?q=place_id:{PLACE_ID}")

    assert KEY not in str(raised.value)


async def test_api_rate_limit_is_retried_later(google: FakeGoogle) -> None:
    google.override = lambda request: httpx.Response(429, headers={"Retry-After": "30"})

    with pytest.raises(RetryLater) as raised:
        await run("https://www.google.com/maps/place/Caf%C3%A9+Central/")

    assert raised.value.delay == 30.0
    assert KEY not in str(raised.value)


async def test_search_without_a_match_fails_permanently(google: FakeGoogle) -> None:
    google.override = lambda request: (
        httpx.Response(200, json={}) if request.url.path.endswith(":searchText") else None
    )

    with pytest.raises(PermanentError, match="found no place for 'Nowhere'"):
        await run("https://www.google.com/maps/place/Nowhere/")


async def test_maps_link_that_names_no_place_fails_permanently(google: FakeGoogle) -> None:
    with pytest.raises(PermanentError, match="cannot tell which place"):
        await run("https://www.google.com/maps/@48.2,16.3,15z")


@pytest.mark.parametrize(
    ("url", "maps"),
    [
        ("https://www.google.com/maps/place/Shop/", True),
        ("https://google.de/maps?q=shop", True),
        ("https://www.google.co.uk/maps/search/shop", True),
        ("https://maps.google.com/?cid=1", True),
        ("https://maps.app.goo.gl/abc", True),
        ("https://goo.gl/maps/abc", True),
        ("https://goo.gl/other", False),
        ("https://www.google.com/search?q=shop", False),
        ("https://www.google.com/mapsfoo", False),
        ("https://shop.test/maps/place/x", False),
        ("https://google.com.evil.test/maps/place/x", False),
    ],
)
def test_maps_links_are_told_from_ordinary_pages(url: str, maps: bool) -> None:
    assert is_maps_url(url) is maps


@pytest.mark.parametrize(
    ("url", "query"),
    [
        (f"{MAPS}/place/?q=place_id:{PLACE_ID}", PlaceQuery(place_id=PLACE_ID)),
        (f"https://maps.google.com/?place_id={PLACE_ID}", PlaceQuery(place_id=PLACE_ID)),
        (f"{MAPS}?q=Shop+Town", PlaceQuery(text="Shop Town")),
        (f"{MAPS}/search/?api=1&query=A%26B", PlaceQuery(text="A&B")),
        (f"{MAPS}/search/Shop+Town/@1.5,-2,3z", PlaceQuery(None, "Shop Town", 1.5, -2.0)),
        (f"{MAPS}/place/Shop/data=!4m2", PlaceQuery(text="Shop")),
        (f"{MAPS}/@48.2,16.3,15z", None),
        ("https://maps.google.com/?cid=123", None),
    ],
)
def test_maps_links_name_a_place_by_id_or_text(url: str, query: PlaceQuery | None) -> None:
    assert place_query(url) == query

"""Google Maps links through the Google Places API (New, v1): find the place, read its reviews.

A Maps link names its place by id (`query_place_id=`, `place_id:`) or by name (`/maps/place/<name>`,
`q=`, `query=`); short links (maps.app.goo.gl, goo.gl/maps) are followed to the full link first.
The API key never appears in an error message or a result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote_plus, urljoin, urlsplit

from jq.errors import PermanentError
from jq.processors.reviews import Review
from jq.processors.reviews.fetch import FetchError, request

if TYPE_CHECKING:
    import httpx

    from jq.settings import Settings

__all__ = ["Place", "PlaceQuery", "fetch_place", "is_maps_url", "place_query"]

_GOOGLE_HOST = re.compile(r"^(?:www\.|maps\.)?google\.[a-z]{2,3}(?:\.[a-z]{2})?$")
_COORDS = re.compile(r"@(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")
SEARCH_FIELDS = "places.id,places.displayName"
DETAILS_FIELDS = "id,displayName,rating,reviews,googleMapsUri"
MAX_SHORT_LINK_HOPS = 5
# A small circle around a link's @lat,lng: the same name elsewhere should not win.
BIAS_RADIUS_METERS = 500.0


def _is_short_link(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return host == "maps.app.goo.gl" or (host == "goo.gl" and parts.path.startswith("/maps"))


def is_maps_url(url: str) -> bool:
    """Whether `url` is a Google Maps link (full or short) rather than an ordinary web page."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if _is_short_link(url):
        return True
    return bool(_GOOGLE_HOST.match(host)) and (
        host.startswith("maps.") or parts.path == "/maps" or parts.path.startswith("/maps/")
    )


@dataclass(frozen=True)
class PlaceQuery:
    """What a Maps link says about its place: an id, or a text to search (maybe near a point)."""

    place_id: str | None = None
    text: str | None = None
    latitude: float | None = None
    longitude: float | None = None


def place_query(url: str) -> PlaceQuery | None:
    """Read a full Maps link; None when it names no place we can look up."""
    parts = urlsplit(url)
    params = {key: values[0] for key, values in parse_qs(parts.query).items() if values[0].strip()}
    coords = _COORDS.search(parts.path)
    near = (float(coords.group(1)), float(coords.group(2))) if coords else (None, None)
    for key in ("query_place_id", "place_id"):
        if key in params:
            return PlaceQuery(place_id=params[key].strip())
    for key in ("q", "query"):
        if key in params:
            value = params[key].strip()
            if value.startswith("place_id:"):
                return PlaceQuery(place_id=value.removeprefix("place_id:").strip())
            return PlaceQuery(None, value, *near)
    segments = [unquote_plus(segment) for segment in parts.path.split("/")]
    for marker in ("place", "search"):
        if marker in segments:
            index = segments.index(marker)
            name = segments[index + 1].strip() if index + 1 < len(segments) else ""
            if name and not name.startswith("@"):
                return PlaceQuery(None, name, *near)
    return None


@dataclass(frozen=True)
class Place:
    """A place and the reviews the API returns for it (the API gives at most five)."""

    id: str
    name: str | None
    reviews: list[Review]


async def fetch_place(client: httpx.AsyncClient, url: str, settings: Settings) -> Place:
    """Resolve a Maps link to a place and read its reviews through the Places API."""
    if settings.google_places_api_key is None:
        raise PermanentError(
            "Google Maps links are read through the Google Places API: set"
            " JQ_GOOGLE_PLACES_API_KEY to an API key with the Places API (New) enabled"
        )
    api = _PlacesApi(
        client,
        settings.google_places_base_url.rstrip("/"),
        settings.google_places_api_key.get_secret_value(),
        settings.scrape_max_page_bytes,
    )
    full_url = await _follow_short_link(client, url, settings.scrape_max_page_bytes)
    query = place_query(full_url)
    if query is None:
        raise PermanentError(f"cannot tell which place this Maps link points to: {url}")
    place_id = query.place_id or await api.search(query, url)
    return await api.details(place_id, url)


async def _follow_short_link(client: httpx.AsyncClient, url: str, max_bytes: int) -> str:
    # Hop by hop, stopping at the first full link: following all the way would fetch the
    # (large, script-only) Maps page itself, which is of no use.
    for _hop in range(MAX_SHORT_LINK_HOPS):
        if not _is_short_link(url):
            return url
        fetched = await request(
            client, "GET", url, max_bytes=max_bytes, what="short link", follow_redirects=False
        )
        location = fetched.headers.get("Location")
        if not location:
            raise PermanentError(f"short link does not redirect ({fetched.status}): {url}")
        url = urljoin(url, location)
    raise PermanentError(f"short link redirects more than {MAX_SHORT_LINK_HOPS} times: {url}")


@dataclass(frozen=True)
class _PlacesApi:
    client: httpx.AsyncClient
    base_url: str
    api_key: str
    max_bytes: int

    async def search(self, query: PlaceQuery, source: str) -> str:
        body: dict[str, Any] = {"textQuery": query.text, "pageSize": 1}
        if query.latitude is not None and query.longitude is not None:
            center = {"latitude": query.latitude, "longitude": query.longitude}
            body["locationBias"] = {"circle": {"center": center, "radius": BIAS_RADIUS_METERS}}
        answer = await self._call("POST", "/places:searchText", SEARCH_FIELDS, body)
        places = answer.get("places") or []
        if not places or not isinstance(places[0], dict) or not places[0].get("id"):
            raise PermanentError(f"Google Places found no place for {query.text!r} (from {source})")
        return str(places[0]["id"])

    async def details(self, place_id: str, source: str) -> Place:
        answer = await self._call("GET", f"/places/{quote(place_id, safe='')}", DETAILS_FIELDS)
        place_url = answer.get("googleMapsUri") or source
        reviews = [_review(raw, place_url) for raw in answer.get("reviews") or []]
        name = (answer.get("displayName") or {}).get("text")
        return Place(str(answer.get("id") or place_id), name, reviews)

    async def _call(
        self, method: str, path: str, field_mask: str, body: Any = None
    ) -> dict[str, Any]:
        headers = {"X-Goog-Api-Key": self.api_key, "X-Goog-FieldMask": field_mask}
        fetched = await request(
            self.client, method, self.base_url + path, max_bytes=self.max_bytes,
            what="Google Places API", headers=headers, json=body,
        )  # fmt: skip
        try:
            answer = json.loads(fetched.body) if not fetched.truncated else None
        except ValueError:
            answer = None
        if fetched.status >= 400:
            raise PermanentError(self._scrub(f"Google Places API refused {path}: {_why(answer)}"))
        if not isinstance(answer, dict):
            raise FetchError(f"Google Places API sent an unreadable answer for {path}")
        return answer

    def _scrub(self, message: str) -> str:
        # Belt and braces: an API echoing the key back must not put it in a job record.
        return message.replace(self.api_key, "***")


def _why(answer: Any) -> str:
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return "no error message"
    return f"{error.get('code', '?')} {error.get('status', '')}: {error.get('message', '')}".strip()


def _review(raw: dict[str, Any], place_url: str) -> Review:
    text = (raw.get("text") or {}).get("text") or (raw.get("originalText") or {}).get("text")
    rating = raw.get("rating")
    return Review(
        author=(raw.get("authorAttribution") or {}).get("displayName"),
        rating=float(rating) if isinstance(rating, (int, float)) else None,
        text=text,
        published_at=raw.get("publishTime"),
        url=raw.get("googleMapsUri") or place_url,
    )

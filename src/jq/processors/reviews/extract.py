"""Reviews and the next-page link in an HTML page's schema.org data (JSON-LD and microdata).

selectolax (lexbor) parses the HTML; JSON-LD blocks go through `json`; microdata items are read
into the same dict shape as JSON-LD, so one function turns either into a `Review`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin

from jq.processors.reviews import Review

if TYPE_CHECKING:
    from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["Extracted", "extract"]

# schema.org's Review and the subtypes a review site uses for customer reviews.
REVIEW_TYPES = frozenset({"Review", "UserReview", "CriticReview", "EmployerReview"})
# Microdata: a property's value is one of these attributes on these tags, else the text.
_URL_ATTRS = {
    "a": "href",
    "area": "href",
    "link": "href",
    "img": "src",
    "audio": "src",
    "video": "src",
    "source": "src",
    "iframe": "src",
    "embed": "src",
    "object": "data",
}
_VALUE_ATTRS = {"meta": "content", "time": "datetime", "data": "value", "meter": "value"}


@dataclass(frozen=True)
class Extracted:
    """What one page yields: its reviews in page order and where pagination goes next."""

    reviews: list[Review]
    next_url: str | None
    bad_json_ld_blocks: int  # blocks skipped because they are not valid JSON


def extract(html: str, page_url: str) -> Extracted:
    """Read the reviews (JSON-LD, then microdata) and the rel=next link from a page."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    base = _base_url(tree, page_url)
    items: list[dict[str, Any]] = []
    bad = 0
    for script in tree.css('script[type="application/ld+json" i]'):
        try:
            data = json.loads(script.text(deep=True), strict=False)
        except ValueError:
            # One broken block must not hide the valid ones beside it.
            bad += 1
            continue
        items.extend(_json_ld_reviews(data))
    items.extend(_microdata_reviews(tree))
    reviews = [_to_review(item, base) for item in items]
    return Extracted(reviews, _next_url(tree, base), bad)


def _base_url(tree: LexborHTMLParser, page_url: str) -> str:
    base = tree.css_first("base[href]")
    href = base.attributes.get("href") if base is not None else None
    return urljoin(page_url, href) if href else page_url


def _next_url(tree: LexborHTMLParser, base: str) -> str | None:
    for link in tree.css('link[rel~="next" i][href], a[rel~="next" i][href]'):
        href = (link.attributes.get("href") or "").strip()
        if href:
            url, _fragment = urldefrag(urljoin(base, href))
            if url.startswith(("http://", "https://")):
                return url
    return None


# --- JSON-LD -----------------------------------------------------------------------------


def _json_ld_reviews(data: Any) -> Iterator[dict[str, Any]]:
    """Every Review object anywhere in a JSON-LD document: top level, `@graph`, a business's
    `review` list, ... A review found is not searched further (its parts are not reviews)."""
    if isinstance(data, list):
        for entry in data:
            yield from _json_ld_reviews(entry)
    elif isinstance(data, dict):
        if _is_review(data.get("@type")):
            yield data
            return
        for value in data.values():
            yield from _json_ld_reviews(value)


def _is_review(types: Any) -> bool:
    names = types if isinstance(types, list) else [types]
    # Types may be written in full ("https://schema.org/Review") or as a term ("Review").
    return any(isinstance(name, str) and name.rsplit("/", 1)[-1] in REVIEW_TYPES for name in names)


# --- microdata ---------------------------------------------------------------------------


def _microdata_reviews(tree: LexborHTMLParser) -> Iterator[dict[str, Any]]:
    for node in tree.css("[itemscope][itemtype]"):
        if _is_review((node.attributes.get("itemtype") or "").split()):
            yield _microdata_item(node)


def _microdata_item(scope: LexborNode) -> dict[str, Any]:
    """An itemscope's properties as a JSON-LD-like dict; nested items become nested dicts."""
    item: dict[str, Any] = {"@type": scope.attributes.get("itemtype")}
    for node in scope.css("[itemprop]"):
        if _owner(node) != scope.mem_id:
            continue  # belongs to a nested item, which reads it itself
        value: Any = _microdata_item(node) if "itemscope" in node.attributes else _prop_value(node)
        for name in (node.attributes.get("itemprop") or "").split():
            item.setdefault(name, value)
    return item


def _owner(node: LexborNode) -> int | None:
    # The nearest itemscope above a property owns it.
    parent = node.parent
    while parent is not None:
        if "itemscope" in parent.attributes:
            return int(parent.mem_id)
        parent = parent.parent
    return None


def _prop_value(node: LexborNode) -> str:
    tag = node.tag or ""
    attr = _URL_ATTRS.get(tag) or _VALUE_ATTRS.get(tag)
    if attr and node.attributes.get(attr) is not None:
        return str(node.attributes[attr])
    # `content` is allowed on any element and overrides its text (common for ratings).
    if node.attributes.get("content") is not None:
        return str(node.attributes["content"])
    return node.text(deep=True, separator=" ")


# --- one shape for both --------------------------------------------------------------------


def _to_review(item: dict[str, Any], base: str) -> Review:
    own_url = _text(item.get("url")) or _text(item.get("@id"))
    url = urljoin(base, own_url) if own_url and not own_url.startswith("_:") else base
    return Review(
        author=_name(item.get("author")),
        rating=_rating(item.get("reviewRating")),
        text=_text(item.get("reviewBody")) or _text(item.get("description")),
        published_at=_text(item.get("datePublished")),
        url=url,
    )


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _text(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):  # e.g. {"@value": "...", "@language": "en"}
        value = value.get("@value")
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = " ".join(str(value).split())
        return text or None
    return None


def _name(author: Any) -> str | None:
    author = _first(author)
    if isinstance(author, dict):
        return _text(author.get("name"))
    return _text(author)


def _rating(rating: Any) -> float | None:
    rating = _first(rating)
    value = rating.get("ratingValue") if isinstance(rating, dict) else rating
    text = _text(value)
    if text is None:
        return None
    try:
        # Some European sites write "4,5".
        number = float(text.replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None

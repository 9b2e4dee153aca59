"""Reading reviews and rel=next links out of HTML, and decoding pages' bytes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jq.processors.reviews import Review
from jq.processors.reviews.extract import extract
from jq.processors.reviews.fetch import decode_html

PAGE = "https://shop.test/reviews"


def ld(data: Any) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


REVIEW = {
    "@type": "Review",
    "author": {"@type": "Person", "name": "Ana"},
    "reviewRating": {"@type": "Rating", "ratingValue": "4.5", "bestRating": "5"},
    "reviewBody": "Lovely\n   place.",
    "datePublished": "2024-02-03",
}
ANA = Review(author="Ana", rating=4.5, text="Lovely place.", published_at="2024-02-03", url=PAGE)


@pytest.mark.parametrize(
    "block",
    [
        ld(REVIEW),
        ld([REVIEW]),
        ld({"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}, REVIEW]}),
        ld({"@type": "LocalBusiness", "name": "Shop", "review": [REVIEW]}),
        ld({"@type": "Product", "review": REVIEW}),
        ld({**REVIEW, "@type": ["Review", "Thing"]}),
        ld({**REVIEW, "@type": "https://schema.org/UserReview"}),
    ],
    ids=["top-level", "list", "graph", "business-review-list", "single-nested", "types", "full"],
)
def test_json_ld_reviews_are_found_wherever_they_sit(block: str) -> None:
    assert extract(f"<html><head>{block}</head></html>", PAGE).reviews == [ANA]


def test_json_ld_fields_take_their_common_variants() -> None:
    variant = {
        "@type": "Review",
        "author": "Bo",
        "reviewRating": {"ratingValue": "3,5"},
        "description": "Fine.",
        "url": "/reviews/7",
    }

    (review,) = extract(ld(variant), PAGE).reviews

    assert review == Review(
        author="Bo", rating=3.5, text="Fine.", published_at=None, url="https://shop.test/reviews/7"
    )


def test_malformed_json_ld_is_skipped_and_counted() -> None:
    html = '<script type="application/ld+json">{"@type": "Review",</script>' + ld(REVIEW)

    found = extract(html, PAGE)

    assert (found.reviews, found.bad_json_ld_blocks) == ([ANA], 1)


def test_microdata_reviews_read_nested_items_and_value_attributes() -> None:
    html = """
    <div itemscope itemtype="http://schema.org/Restaurant">
      <span itemprop="name">Shop</span>
      <div itemprop="review" itemscope itemtype="http://schema.org/Review">
        <div itemprop="author" itemscope itemtype="http://schema.org/Person">
          <span itemprop="name">Ana</span>
        </div>
        <div itemprop="reviewRating" itemscope itemtype="http://schema.org/Rating">
          <span itemprop="ratingValue" content="4.5">★★★★½</span>
        </div>
        <meta itemprop="datePublished" content="2024-02-03">
        <p itemprop="reviewBody">Lovely
           place.</p>
      </div>
      <div itemprop="review" itemscope itemtype="http://schema.org/Review">
        <span itemprop="author">Bo</span>
        <time itemprop="datePublished" datetime="2024-01-01">New Year</time>
        <a itemprop="url" href="/r/2">link</a>
      </div>
    </div>"""

    assert extract(html, PAGE).reviews == [
        ANA,
        Review(author="Bo", published_at="2024-01-01", url="https://shop.test/r/2"),
    ]


def test_json_ld_and_microdata_on_one_page_are_both_read() -> None:
    micro = '<div itemscope itemtype="https://schema.org/Review"><b itemprop="author">Bo</b></div>'

    found = extract(ld(REVIEW) + micro, PAGE)

    assert [review.author for review in found.reviews] == ["Ana", "Bo"]


@pytest.mark.parametrize(
    ("html", "next_url"),
    [
        ('<link rel="next" href="?page=2">', "https://shop.test/reviews?page=2"),
        ('<a rel="nofollow next" href="/reviews/2#top">2</a>', "https://shop.test/reviews/2"),
        ('<base href="https://cdn.test/r/"><a rel="next" href="p2">', "https://cdn.test/r/p2"),
        ('<a rel="prev" href="/p0">0</a>', None),
        ('<a rel="next" href="mailto:shop@test">?</a>', None),
        ("<p>no links</p>", None),
    ],
)
def test_next_page_link_comes_from_link_or_anchor_rel_next(html: str, next_url: str | None) -> None:
    assert extract(html, PAGE).next_url == next_url


def test_reviews_with_the_same_content_share_an_identity_whatever_their_url() -> None:
    moved = ANA.model_copy(update={"text": "  lovely PLACE. ", "url": "https://shop.test/p2"})

    assert moved.identity() == ANA.identity()
    assert ANA.model_copy(update={"rating": 2.0}).identity() != ANA.identity()


@pytest.mark.parametrize(
    ("body", "content_type", "text"),
    [
        ("Zoë".encode("latin-1"), "text/html; charset=ISO-8859-1", "Zoë"),
        (b'<meta charset="windows-1252"><p>\x93Hi\x94</p>', "text/html", "“Hi”"),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">\xf0\xd2',
            "",
            "Пр",
        ),
        ("Zoë".encode(), "text/html", "Zoë"),
        (b"\xef\xbb\xbfZo\xc3\xab", "", "Zoë"),
        (b"Caf\xe9", "text/html", "Caf\N{REPLACEMENT CHARACTER}"),
        (b"Caf\xe9", "text/html; charset=no-such-codec", "Caf\N{REPLACEMENT CHARACTER}"),
    ],
    ids=["header", "meta", "http-equiv", "utf-8", "bom", "undeclared", "unknown-codec"],
)
def test_pages_are_decoded_by_declared_charset_else_utf8_with_replacement(
    body: bytes, content_type: str, text: str
) -> None:
    assert text in decode_html(body, content_type)

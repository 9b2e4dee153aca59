"""The parts of the scrape-reviews task: `Review` (the record every source yields), plus
`fetch` (HTTP, robots.txt), `extract` (schema.org data in HTML) and `places` (Google Places).

Nothing here imports httpx, selectolax or protego at module level: `jq --help` stays quick.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["Review"]


class Review(BaseModel):
    """One review, whichever source it came from."""

    author: str | None = Field(default=None, description="The reviewer's display name.")
    rating: float | None = Field(
        default=None, description="The rating as the source gives it (usually 1-5 stars)."
    )
    text: str | None = Field(default=None, description="The review's body.")
    published_at: str | None = Field(
        default=None, description="When it was published, as the source wrote it (ISO 8601)."
    )
    url: str | None = Field(
        default=None, description="The review's own link, else the page it was found on."
    )

    def identity(self) -> tuple[object, ...]:
        """What makes two reviews the same one, wherever they were found.

        The URL is left out on purpose: a review repeated on two pages carries each page's URL.
        """
        return (
            _squash(self.author),
            self.rating,
            _squash(self.text),
            (self.published_at or "").strip(),
        )


def _squash(value: str | None) -> str:
    # Pages re-wrap and re-case the same text; compare words, not whitespace.
    return " ".join((value or "").split()).casefold()

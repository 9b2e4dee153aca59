"""jq's own task types; importing this package registers them."""

from jq.processors import demo, scrape_reviews

__all__ = ["demo", "scrape_reviews"]

"""A small local shop site with reviews as schema.org JSON-LD, for trying `scrape-reviews`.

Three pages, linked with rel=next (page 3 links back to page 1), carrying 25 distinct reviews,
two of which appear on two pages. Run `python examples/review_site.py [--port N]`; it prints
the first page's URL and serves until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AUTHORS = [
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jun",
    "Kai",
    "Lea",
    "Max",
    "Noor",
    "Oli",
    "Pia",
    "Quin",
    "Rui",
    "Sam",
    "Tess",
    "Uma",
    "Vik",
    "Wen",
    "Xu",
    "Yara",
]
RATINGS = [5, 4, 3, 5, 4, 2, 5, 4, 4, 3, 5, 1, 4, 5, 3, 4, 5, 2, 4, 5, 3, 4, 5, 4, 3]
# Reviews 0-9 on page 1, 10-18 on page 2, 19-24 on page 3; 8 and 9 are on page 2 as well.
PAGES = {1: list(range(0, 10)), 2: [8, 9, *range(10, 19)], 3: list(range(19, 25))}


def review(i: int) -> dict[str, object]:
    return {
        "@type": "Review",
        "author": {"@type": "Person", "name": AUTHORS[i]},
        "reviewRating": {"@type": "Rating", "ratingValue": RATINGS[i], "bestRating": 5},
        "reviewBody": f"Review {i + 1}: {'great' if RATINGS[i] >= 4 else 'fair'} coffee.",
        "datePublished": f"2026-10-{i + 1:02d}",
    }


def page(n: int) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "CafeOrCoffeeShop",
        "name": "Example Café",
        "review": [review(i) for i in PAGES[n]],
    }
    nxt = f'<link rel="next" href="/shop/reviews?page={n % 3 + 1}">'
    return (
        f"<!doctype html><html><head><title>Example Café, page {n}</title>{nxt}"
        f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
        f"<body><h1>Example Café reviews, page {n}</h1></body></html>"
    )


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path.startswith("/shop/reviews"):
            n = int(self.path.rpartition("page=")[2] or 1) if "page=" in self.path else 1
            if n not in PAGES:
                self.send_error(404)
                return
            body, kind = page(n).encode(), "text/html; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"review-site: {format % args}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    port = parser.parse_args().port
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}/shop/reviews?page=1", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()

"""A worker process for the fault-injection suite: settings from the environment, log to stderr.

Run as `python worker_main.py [TYPE ...]`; it does not go through the CLI, so the suite tests
the engine alone.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from jq.settings import load_settings
from jq.worker import run_worker


def main() -> None:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    asyncio.run(run_worker(load_settings(), types=sys.argv[1:] or None))


if __name__ == "__main__":
    main()

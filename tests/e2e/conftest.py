"""Fixtures for the end-to-end tests: a real `python -m jq worker` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture
def worker(redis_url: str) -> Iterator[subprocess.Popen[str]]:
    """A `python -m jq worker` for the test; stopped with SIGTERM afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "jq", "worker", "--concurrency", "2"],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        print("worker stderr:", err)  # shown when a test fails

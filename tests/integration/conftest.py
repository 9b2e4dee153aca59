"""Fixtures for engine tests against the real Redis: settings, a QueueManager, and an event
log subscribed before the test starts (helpers live in engine_helpers.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from engine_helpers import WAIT, EventLog, make_settings
from redis.asyncio import Redis

from jq import keys
from jq.models import Event
from jq.queue import QueueManager
from jq.settings import Settings
from jq.tasks import load_task_types


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return make_settings(redis_url)


@pytest.fixture
def qm(aredis: Redis, settings: Settings) -> QueueManager:
    load_task_types(entry_points=False)
    return QueueManager(aredis, settings)


@pytest.fixture
async def events(aredis: Redis) -> AsyncIterator[EventLog]:
    """Every `jq:events` message from now on; the subscription is confirmed before the test."""
    log = EventLog()
    pubsub = aredis.pubsub()
    await pubsub.subscribe(keys.EVENTS)
    async with asyncio.timeout(WAIT):
        while (await pubsub.get_message(timeout=1.0) or {}).get("type") != "subscribe":
            pass

    async def pump() -> None:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                await log.add(Event.model_validate_json(message["data"]))

    task = asyncio.create_task(pump())
    try:
        yield log
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pubsub.aclose()

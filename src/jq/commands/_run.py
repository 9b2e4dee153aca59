"""How a command runs its async body: one `asyncio.run` around a connected QueueManager."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from jq.models import JobState
    from jq.queue import QueueManager
    from jq.settings import Settings

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine to completion (commands are sync wrappers around this)."""
    import asyncio  # here, not at the top: it is a fifth of `jq --help`'s import time

    return asyncio.run(coro)


@asynccontextmanager
async def open_queue(settings: Settings | None = None) -> AsyncIterator[QueueManager]:
    """A QueueManager connected to the configured Redis, closed on the way out."""
    from jq.queue import QueueManager

    queue = await QueueManager.connect(settings)
    try:
        yield queue
    finally:
        await queue.close()


def settings() -> Settings:
    """The settings, read once per command."""
    from jq.settings import load_settings

    return load_settings()


def for_each_job(
    ids: list[str],
    action: Callable[[QueueManager, str], Awaitable[JobState]],
    done: str,
) -> None:
    """Apply `action` to every id, reporting each on stderr; re-raise the first error at the end."""
    from jq.errors import JqError
    from jq.render import notice

    async def body() -> None:
        first: JqError | None = None
        async with open_queue(settings()) as queue:
            for jid in ids:
                try:
                    was = await action(queue, jid)
                except JqError as exc:
                    if first is None:
                        first = exc  # main() reports it
                    else:
                        notice(f"{jid}: {exc}")
                    continue
                notice(f"{jid}: {done} (was {was})")
        if first is not None:
            raise first

    run(body())

"""`jq.stats.collect` against fakeredis."""

from __future__ import annotations

import json

import redis.asyncio

from jq import keys
from jq.stats import collect

NOW_MS = 31_666_667 * 60_000 + 30_000  # half way through a minute (in 2030)


async def test_stats_counts_states_rate_hold_backlog_and_workers(
    fake_redis: redis.asyncio.Redis,
) -> None:
    minute = NOW_MS // 60_000
    await fake_redis.zadd(keys.state("waiting", "demo"), {"a": NOW_MS - 5000, "b": NOW_MS - 1000})
    await fake_redis.zadd(keys.state("failed", "demo"), {"c": NOW_MS})
    await fake_redis.set(keys.done("demo", minute), 3)
    await fake_redis.set(keys.done("demo", minute - 2), 6)
    await fake_redis.set(keys.hold("demo"), 0)
    await fake_redis.zadd(keys.WORKERS, {"w1": NOW_MS + 10_000, "dead": NOW_MS - 1})
    info = {"host": "h", "pid": 7, "started": 1_900_000_000.0, "types": {"demo": 3}, "jobs": ["a"]}
    await fake_redis.set(keys.worker("w1"), json.dumps(info))

    stats = await collect(fake_redis, ["demo", "other"], now_ms=NOW_MS)

    demo = stats["types"]["demo"]
    assert demo["counts"]["waiting"] == 2 and demo["counts"]["failed"] == 1
    assert demo["per_minute"] == 2.0  # 9 jobs over 4.5 minutes
    assert demo["held"] is True and demo["held_until"] is None
    assert demo["oldest_waiting_seconds"] == 5.0
    assert stats["types"]["other"]["oldest_waiting_seconds"] is None
    assert [w["id"] for w in stats["workers"]] == ["w1"]
    assert stats["workers"][0]["types"] == {"demo": 3}
    assert stats["workers"][0]["started"].startswith("2030-")


async def test_a_hold_whose_time_has_passed_is_not_held(fake_redis: redis.asyncio.Redis) -> None:
    await fake_redis.set(keys.hold("demo"), NOW_MS - 1)
    stats = await collect(fake_redis, ["demo"], now_ms=NOW_MS)
    assert stats["types"]["demo"]["held"] is False

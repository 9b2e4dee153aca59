"""A Redis password never reaches a worker's log, nor its error output when it is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio
from faults import Workers, count_state, wait_until

from jq.queue import QueueManager
from jq.settings import load_settings

PASSWORD = "pw-Zq8r-secret"


@pytest.fixture
def acl_user(redis_server: Any, redis_url: str) -> Iterator[str]:
    """A Redis ACL user with a password on the test server; its URL."""
    client = redis_server.client()
    client.acl_setuser("jqtest", enabled=True, passwords=[f"+{PASSWORD}"], keys=["*"],
                       channels=["*"], commands=["+@all"])  # fmt: skip
    try:
        yield redis_url.replace("unix://", f"unix://jqtest:{PASSWORD}@", 1)
    finally:
        client.acl_deluser("jqtest")
        client.close()


@pytest.mark.timeout(60)
async def test_worker_logs_never_show_the_redis_password(
    acl_user: str, aredis: redis.asyncio.Redis, workers: Workers
) -> None:
    good = (await workers.start_ready(1, {"JQ_REDIS_URL": acl_user}))[0]
    await QueueManager(aredis, load_settings()).add_jobs("demo", [{"steps": 1}] * 3)
    await wait_until(lambda: _completed(aredis, 3), 15, what="jobs run over the ACL user")
    bad = workers.start({"JQ_REDIS_URL": acl_user.replace(PASSWORD, PASSWORD + "-wrong")})
    assert await bad.wait_exit(15) != 0
    assert "refused the credentials" in bad.log()
    assert "jqtest:***@" in bad.log()
    for w in (good, bad):
        assert PASSWORD not in w.log()


async def _completed(client: redis.asyncio.Redis, n: int) -> bool:
    return await count_state(client, "completed") == n

"""Hostile input, by property: job data at add, and everything jq reads back from Redis.

Whatever someone types or plants in Redis, each decoder either returns a valid value or raises
its one documented error; nothing else escapes, and nothing in a payload is ever executed.
"""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import fakeredis.aioredis
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr, ValidationError

from jq.connection import describe, redact
from jq.errors import UsageError
from jq.models import Event, Job
from jq.queue import QueueManager, arq_payload, decode_job
from jq.settings import Settings
from jq.tasks import get_task_type, load_task_types
from jq.worker import CorruptJob, decode_payload

SRC = Path(__file__).parents[2] / "src" / "jq"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
DEMO_FIELDS = ("steps", "interval", "fail_at")
SCRAPE_FIELDS = ("maps_url", "shop_id", "max_pages", "max_reviews")


def _manager(limit: int = 1_000_000) -> QueueManager:
    load_task_types(entry_points=False)
    return QueueManager(fakeredis.aioredis.FakeRedis(), Settings(max_data_bytes=limit))


def _job_data(fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(fields) | st.text(max_size=8), json_values, max_size=6)


# -- job data at add -----------------------------------------------------------------------------


@FAST
@given(data=_job_data(DEMO_FIELDS))
@example(data={"steps": 10**30})
@example(data={"interval": float("inf")})
@example(data={"steps": "3"})
def test_demo_data_is_either_clean_or_a_usage_error(data: dict[str, Any]) -> None:
    _either_clean_or_usage_error("demo", data)


@FAST
@given(data=_job_data(SCRAPE_FIELDS))
@example(data={"maps_url": "http://[::1", "shop_id": "s"})
@example(data={"maps_url": "javascript:alert(1)", "shop_id": "s"})
@example(data={"maps_url": "https://example.com/", "shop_id": "   "})
@example(data={"maps_url": "https://example.com/", "shop_id": "s", "max_pages": 10**9})
def test_scrape_reviews_data_is_either_clean_or_a_usage_error(data: dict[str, Any]) -> None:
    _either_clean_or_usage_error("scrape-reviews", data)


def _either_clean_or_usage_error(task_type: str, data: dict[str, Any]) -> None:
    qm = _manager()
    try:
        clean = qm.validate(task_type, data)
    except UsageError as exc:
        assert str(exc).startswith(f"invalid data for {task_type}: ")
        assert "\n" not in str(exc)
        return
    json.dumps(clean, allow_nan=False)  # storable as strict JSON
    assert qm.validate(task_type, clean) == clean  # and stable


@FAST
@given(shop_id=st.text(min_size=1, max_size=3000).filter(str.strip), limit=st.integers(1, 4000))
def test_data_over_max_data_bytes_is_rejected_at_add(shop_id: str, limit: int) -> None:
    data = {"maps_url": "https://example.com/shop", "shop_id": shop_id}
    size = len(json.dumps(_manager().validate("scrape-reviews", data), separators=(",", ":")))
    if size <= limit:
        _manager(limit).validate("scrape-reviews", data)
    else:
        with pytest.raises(UsageError, match=r"the limit is \d+ \(JQ_MAX_DATA_BYTES\)"):
            _manager(limit).validate("scrape-reviews", data)


# -- what is read back from Redis ----------------------------------------------------------------

HASH_FIELDS = [
    "id",
    "type",
    "state",
    "data",
    "progress",
    "attempts",
    "max_attempts",
    "priority",
    "result",
    "error",
    "errors",
    "created",
    "run_at",
    "started",
    "finished",
    "worker",
    "rev",
]
hostile_strings = st.text(max_size=40) | st.sampled_from(
    ["", "inf", "-inf", "nan", "1e30", "-1e20", "9" * 40, "[" * 5000, "{}", "null", "[]", '"x"']
)


@FAST
@given(fields=st.dictionaries(st.sampled_from(HASH_FIELDS) | st.text(max_size=5), hostile_strings))
@example(fields={"id": "1", "type": "demo", "state": "waiting", "created": "inf"})
@example(fields={"id": "1", "type": "demo", "state": "waiting", "created": "1e30"})
@example(fields={"id": "1", "type": "demo", "state": "waiting", "created": "-1e20"})
@example(fields={"id": "1", "type": "demo", "state": "waiting", "created": "1", "data": "[" * 5000})
@example(fields={"id": "1", "type": "demo", "state": "done", "created": "1"})
def test_a_job_record_either_decodes_or_is_a_value_error(fields: dict[str, str]) -> None:
    try:
        job = Job.from_hash(fields)
    except ValueError:
        assert decode_job(fields) is None  # `jq ls` skips it, and does not crash
        return
    assert isinstance(job, Job)
    assert decode_job(fields) == job


def test_a_sound_job_record_decodes() -> None:
    job = Job.from_hash(
        {"id": "7", "type": "demo", "state": "completed", "created": "1700000000000",
         "data": '{"steps":1}', "result": '{"steps":1,"seconds":0.1}', "attempts": "1"}
    )  # fmt: skip
    assert (job.id, job.state, job.attempts_made, job.data) == ("7", "completed", 1, {"steps": 1})


@FAST
@given(raw=st.text(max_size=300) | st.binary(max_size=300))
@example(raw=b"\x80\x04\x95")
@example(raw="[" * 100_000)
@example(raw='{"event":"added","id":"1","type":"demo","state":"bogus","rev":1,"ts":0}')
def test_an_event_either_parses_or_is_a_validation_error(raw: str | bytes) -> None:
    try:
        event = Event.model_validate_json(raw)
    except ValidationError:
        return
    assert isinstance(event, Event)


@FAST
@given(
    doc=st.fixed_dictionaries(
        {"f": st.sampled_from(["demo", "other"]) | json_values, "k": json_values},
        optional={"a": json_values, "t": json_values, "et": json_values},
    )
)
def test_an_arq_shaped_payload_either_validates_or_is_corrupt(doc: dict[str, Any]) -> None:
    _either_valid_or_corrupt(json.dumps(doc))


@FAST
@given(payload=st.text(max_size=300))
@example(payload="")
@example(payload="[" * 100_000)
@example(payload='{"f":"demo","a":[],"k":[],"t":1,"et":0}')
@example(payload=pickle.dumps({"f": "demo", "k": {}}).decode("latin-1"))
def test_any_payload_text_either_validates_or_is_corrupt(payload: str) -> None:
    _either_valid_or_corrupt(payload)


def _either_valid_or_corrupt(payload: str) -> None:
    load_task_types(entry_points=False)
    try:
        data = decode_payload(payload, "demo", get_task_type("demo"))
    except CorruptJob as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(data, BaseModel)


class _Boom:
    """Unpickling this would create a file: proof that a payload was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_a_pickled_payload_is_corrupt_and_never_executed(tmp_path: Path) -> None:
    load_task_types(entry_points=False)
    marker = tmp_path / "executed"
    job = {"f": "demo", "a": [], "k": {"steps": _Boom(marker)}, "t": 1, "et": 0}
    planted = pickle.dumps(job)
    for payload in (planted.decode("latin-1"), planted.decode("utf-8", errors="replace"), ""):
        with pytest.raises(CorruptJob):
            decode_payload(payload, "demo", get_task_type("demo"))
    assert not marker.exists()


def test_jq_writes_payloads_as_json_and_never_uses_pickle() -> None:
    payload = arq_payload("demo", {"steps": 2}, 1)
    assert json.loads(payload)["k"] == {"steps": 2}
    assert payload.isascii()  # claim.lua hands over nothing for a non-ASCII payload
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+(c?pickle|dill|marshal)\b", text, re.M), path
        assert "pickle.load" not in text, path


# -- secrets -------------------------------------------------------------------------------------

secrets_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=24
)


@FAST
@given(user=st.sampled_from(["", "jq", "app-user"]), password=secrets_text)
def test_redact_hides_any_password(user: str, password: str) -> None:
    secret = "S3cr3t" + password  # long enough not to occur by chance in the rest of the URL
    url = f"redis://{quote(user, safe='')}:{quote(secret, safe='')}@redis.example:6380/2"
    for shown in (redact(url), describe(Settings(redis_url=SecretStr(url)))):
        assert secret not in shown and quote(secret, safe="") not in shown
        assert "redis.example:6380/2" in shown
        assert ("jq" in shown) == (user != "" and "jq" in user)


def test_settings_never_print_their_secrets() -> None:
    s = Settings(
        redis_url=SecretStr("redis://u:hunter2-pw@h:1/0"),
        redis_password=SecretStr("hunter2-pw"),
        google_places_api_key=SecretStr("AIza-secret-key"),
    )
    for text in (repr(s), str(s), s.model_dump_json()):
        assert "hunter2-pw" not in text and "AIza-secret-key" not in text
    assert "hunter2-pw" not in describe(
        Settings(redis_host="h", redis_password=SecretStr("hunter2-pw"))
    )

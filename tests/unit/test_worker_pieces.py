"""The worker's pure pieces: backoff, payload decoding, result encoding, secrets in URLs."""

from __future__ import annotations

import json
import pickle

import pytest
from pydantic import BaseModel

from jq import keys
from jq.connection import redact
from jq.processors.demo import DemoInput
from jq.queue import arq_payload
from jq.tasks import get_task_type, load_task_types
from jq.worker import CorruptJob, decode_payload, result_json, retry_delay


def test_backoff_doubles_from_the_base() -> None:
    assert [retry_delay(2.0, n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]


def test_payload_round_trips_through_arqs_format() -> None:
    load_task_types(entry_points=False)
    payload = arq_payload("demo", {"steps": 3}, 1).decode()
    data = decode_payload(payload, "demo", get_task_type("demo"))
    assert data == DemoInput(steps=3)


@pytest.mark.parametrize(
    "payload",
    [
        "garbage",
        json.dumps({"f": "demo", "a": [], "k": {"steps": "many"}, "t": 1, "et": 0}),
        json.dumps({"f": "other", "a": [], "k": {}, "t": 1, "et": 0}),
        pickle.dumps({"f": "demo"}).decode("latin-1"),
        "",
    ],
)
def test_a_payload_that_is_not_a_valid_job_is_corrupt(payload: str) -> None:
    load_task_types(entry_points=False)
    with pytest.raises(CorruptJob):
        decode_payload(payload, "demo", get_task_type("demo"))


def test_results_are_json_and_models_are_dumped() -> None:
    class Out(BaseModel):
        n: int

    assert json.loads(result_json(Out(n=2))) == {"n": 2}
    with pytest.raises(TypeError):
        result_json(object())


def test_passwords_are_redacted_from_urls() -> None:
    assert redact("redis://user:s3cret@host:6379/0") == "redis://user:***@host:6379/0"
    assert redact("unix:///tmp/r.sock") == "unix:///tmp/r.sock"


def test_arqs_job_key_is_where_jq_keeps_the_payload() -> None:
    from arq.constants import job_key_prefix

    assert job_key_prefix == keys.ARQ_JOB

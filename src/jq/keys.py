"""Every Redis key and channel jq uses, built in this one place (docs/redis-keys.md explains each).

Lua scripts receive the same prefixes through `lua_header()`, so no key is spelled twice.
"""

from __future__ import annotations

# arq's own job key (arq.constants.job_key_prefix): the job payload lives where arq keeps it.
ARQ_JOB = "arq:job:"

JOB = "jq:job:"  # + id: hash, the job record (state, data, progress, attempts, result, error...)
QUEUE = "jq:queue:"  # + type: zset of ready ids, score = -priority * 2**33 + sequence (FIFO)
DELAYED = "jq:delayed"  # zset of delayed ids (all types), score = run-at epoch ms
LEASES = "jq:leases"  # zset of running ids, score = lease expiry epoch ms
STATE = "jq:state:"  # + state, and + state + ":" + type: zset of ids, score = last change ms
TYPES = "jq:types"  # set of every task type that has had a job
HOLD = "jq:hold:"  # + type: string, hold-until epoch ms ("0": until released)
SEQ = "jq:seq"  # counter that orders jobs of equal priority
IDS = "jq:ids"  # counter that numbers jobs added without an explicit id
DONE = "jq:done:"  # + type + ":" + epoch minute: jobs finished that minute (expires after 2 h)
WORKERS = "jq:workers"  # zset of worker ids, score = heartbeat expiry epoch ms
WORKER = "jq:worker:"  # + worker id: string, JSON about the worker (host, pid, types, jobs)

EVENTS = "jq:events"  # pub/sub channel: one JSON event per job state change or progress
WAKE = "jq:wake"  # pub/sub channel: a task type name, published when jobs become ready
CONTROL = "jq:control"  # pub/sub channel: "<verb> <id>" (abort, pause, resume) for workers


def job(job_id: str) -> str:
    return JOB + job_id


def arq_job(job_id: str) -> str:
    return ARQ_JOB + job_id


def queue(task_type: str) -> str:
    return QUEUE + task_type


def state(state_name: str, task_type: str | None = None) -> str:
    return STATE + state_name + (":" + task_type if task_type else "")


def hold(task_type: str) -> str:
    return HOLD + task_type


def done(task_type: str, minute: int) -> str:
    return f"{DONE}{task_type}:{minute}"


def worker(worker_id: str) -> str:
    return WORKER + worker_id


def lua_header() -> str:
    """Lua locals holding each prefix, prepended to every script."""
    names = {
        "K_ARQ_JOB": ARQ_JOB,
        "K_JOB": JOB,
        "K_QUEUE": QUEUE,
        "K_DELAYED": DELAYED,
        "K_LEASES": LEASES,
        "K_STATE": STATE,
        "K_TYPES": TYPES,
        "K_HOLD": HOLD,
        "K_SEQ": SEQ,
        "K_IDS": IDS,
        "K_DONE": DONE,
        "K_WORKERS": WORKERS,
        "K_WORKER": WORKER,
        "C_EVENTS": EVENTS,
        "C_WAKE": WAKE,
        "C_CONTROL": CONTROL,
    }
    return "".join(f"local {name} = '{value}'\n" for name, value in names.items())

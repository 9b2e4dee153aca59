"""The task registry: `@task` registers an async processor under a task-type name.

A processor is called with keyword arguments in the reference design's shape:
`id` (the job id), `data` (the validated input model) and `update_progress`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from pydantic import BaseModel

from jq.errors import ConfigError, UnknownTaskType

ENTRY_POINT_GROUP = "jq.processors"


class UpdateProgress(Protocol):
    """`await update_progress(percentage=.., current=.., total=.., message=..)`."""

    async def __call__(
        self,
        percentage: float | None = None,
        current: int | None = None,
        total: int | None = None,
        message: str | None = None,
    ) -> None: ...


Processor = Callable[..., Awaitable[Any]]
P = TypeVar("P", bound=Processor)


@dataclass(frozen=True)
class TaskOptions:
    """Per-type knobs; None means: use the setting of the same name."""

    attempts: int | None = None
    backoff: float | None = None
    concurrency: int | None = None
    timeout: float | None = None
    keep_completed: int | None = None
    keep_failed: int | None = None
    keep_completed_age: float | None = None
    keep_failed_age: float | None = None


@dataclass(frozen=True)
class TaskType:
    """A registered task type: its name, processor, input and result models and options."""

    name: str
    processor: Processor
    input_model: type[BaseModel]
    result_model: type[BaseModel] | None
    options: TaskOptions
    description: str

    def validate(self, data: dict[str, Any]) -> BaseModel:
        """Validate job data against the input model (raises pydantic.ValidationError)."""
        return self.input_model.model_validate(data)


_REGISTRY: dict[str, TaskType] = {}
_entry_points_loaded = False
_SHUTDOWN: list[Callable[[], Awaitable[None]]] = []


def on_worker_shutdown(fn: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """Register a coroutine function a worker awaits as it stops (close shared clients)."""
    if fn not in _SHUTDOWN:
        _SHUTDOWN.append(fn)
    return fn


def shutdown_hooks() -> list[Callable[[], Awaitable[None]]]:
    """The registered worker-shutdown coroutine functions, in registration order."""
    return list(_SHUTDOWN)


def task(
    name: str,
    *,
    input: type[BaseModel],
    result: type[BaseModel] | None = None,
    description: str | None = None,
    attempts: int | None = None,
    backoff: float | None = None,
    concurrency: int | None = None,
    timeout: float | None = None,
    keep_completed: int | None = None,
    keep_failed: int | None = None,
    keep_completed_age: float | None = None,
    keep_failed_age: float | None = None,
) -> Callable[[P], P]:
    """Register an async processor as task type `name`."""

    def register(fn: P) -> P:
        if not inspect.iscoroutinefunction(cast(Any, fn)):
            raise TypeError(f"processor for {name!r} must be an async function")
        doc = description or (inspect.getdoc(fn) or "").split("\n", 1)[0]
        _REGISTRY[name] = TaskType(
            name=name,
            processor=fn,
            input_model=input,
            result_model=result,
            options=TaskOptions(
                attempts,
                backoff,
                concurrency,
                timeout,
                keep_completed,
                keep_failed,
                keep_completed_age,
                keep_failed_age,
            ),
            description=doc,
        )
        return fn

    return register


def load_task_types(
    imports: Iterable[str] = (), *, entry_points: bool = True
) -> dict[str, TaskType]:
    """Import jq's processors, the `jq.processors` entry points and `imports`; return all types."""
    global _entry_points_loaded
    importlib.import_module("jq.processors")
    # Once per process: the scan of installed packages costs ~1.5 ms, and validation (so
    # every item of a bulk add) comes through here. What is installed does not change.
    if entry_points and not _entry_points_loaded:
        from importlib.metadata import entry_points as find

        for ep in find(group=ENTRY_POINT_GROUP):
            try:
                ep.load()
            except Exception as exc:
                raise ConfigError(f"cannot load entry point {ep.name} ({ep.value}): {exc}") from exc
        _entry_points_loaded = True
    for module in imports:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"cannot import {module}: {exc}") from exc
    return dict(_REGISTRY)


def get_task_type(name: str) -> TaskType:
    """The registered task type `name`, or UnknownTaskType."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownTaskType(name, list(_REGISTRY)) from None

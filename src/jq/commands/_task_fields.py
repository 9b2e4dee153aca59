"""A task type's input fields seen as command-line flags (for `jq add TYPE` and `jq types`)."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, to_jsonable_python

_SCALARS: dict[type, str] = {bool: "boolean", int: "integer", float: "number", str: "string"}


@dataclass(frozen=True)
class TaskField:
    """One field of a task's input model."""

    name: str
    flag: str  # --maps-url
    kind: type | None  # the scalar type of its option; None: settable only through --data
    type_label: str  # integer, number, string, boolean, or the annotation for other types
    required: bool
    default: Any  # JSON-able; None when required or None by default
    description: str
    nullable: bool

    def as_dict(self) -> dict[str, Any]:
        """The field as `jq types --json` prints it."""
        return {
            "name": self.name,
            "flag": self.flag if self.kind is not None else None,
            "type": self.type_label,
            "required": self.required,
            "nullable": self.nullable,
            "default": self.default,
            "description": self.description,
        }


def task_fields(model: type[BaseModel]) -> list[TaskField]:
    """The model's fields, in declaration order."""
    return [_field(name, info) for name, info in model.model_fields.items()]


def _field(name: str, info: FieldInfo) -> TaskField:
    kind, nullable = _scalar(info.annotation)
    required = info.is_required()
    default: Any = None
    if not required:
        raw = info.get_default(call_default_factory=True)
        default = None if raw is PydanticUndefined else to_jsonable_python(raw, fallback=repr)
    label = _SCALARS.get(kind, "") if kind is not None else _annotation_label(info.annotation)
    if kind is not None and issubclass(kind, Enum):
        label = "|".join(str(m.value) for m in kind)
    alias = info.alias or name
    return TaskField(
        name=alias,
        flag="--" + alias.replace("_", "-"),
        kind=kind,
        type_label=label,
        required=required,
        default=default,
        description=(info.description or "").strip(),
        nullable=nullable,
    )


def _scalar(annotation: Any) -> tuple[type | None, bool]:
    """The scalar type a flag can carry (unwrapping `X | None`), and whether None is allowed."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            return None, nullable
        annotation = args[0]
    if isinstance(annotation, type) and (annotation in _SCALARS or issubclass(annotation, Enum)):
        return annotation, nullable
    return None, nullable


def _annotation_label(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "")

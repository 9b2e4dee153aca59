"""`jq types`: the registered task types, their input fields and options."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from jq.commands._options import AsJson
from jq.commands._run import settings


def types(as_json: AsJson = False) -> None:
    """List the task types with their fields (as `jq add` flags) and options."""
    from jq import render
    from jq.commands._task_fields import task_fields
    from jq.tasks import load_task_types

    registry = load_task_types(settings().imports)
    described: list[dict[str, Any]] = [
        {
            "name": tt.name,
            "description": tt.description,
            "fields": [f.as_dict() for f in task_fields(tt.input_model)],
            "options": asdict(tt.options),
        }
        for tt in sorted(registry.values(), key=lambda tt: tt.name)
    ]
    if as_json:
        render.write_json(described)
    else:
        render.stdout_console().print(render.types_view(described))

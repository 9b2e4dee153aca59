"""The `demo` task type: sleeps through a number of steps, reporting progress at each."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from jq.tasks import UpdateProgress, task


class DemoInput(BaseModel):
    steps: int = Field(default=10, ge=1, le=1_000_000, description="Number of steps to run.")
    interval: float = Field(default=0.2, ge=0, le=3600, description="Seconds each step takes.")
    fail_at: int | None = Field(
        default=None, ge=1, description="Step at which every attempt raises (to try retries)."
    )


class DemoResult(BaseModel):
    steps: int
    seconds: float


class DemoFailure(RuntimeError):
    """Raised by a demo job at its `fail_at` step."""


@task("demo", input=DemoInput, result=DemoResult)
async def demo(*, id: str, data: DemoInput, update_progress: UpdateProgress) -> DemoResult:
    """Sleep `steps` x `interval` seconds, reporting progress at every step."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    for step in range(1, data.steps + 1):
        if data.fail_at is not None and step == data.fail_at:
            raise DemoFailure(f"demo job failed at step {step} as asked (fail_at={data.fail_at})")
        if data.interval:
            await asyncio.sleep(data.interval)
        await update_progress(
            percentage=100.0 * step / data.steps,
            current=step,
            total=data.steps,
            message=f"step {step}/{data.steps}",
        )
    return DemoResult(steps=data.steps, seconds=round(loop.time() - started, 3))

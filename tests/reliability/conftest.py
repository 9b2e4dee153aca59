"""Fixtures of the fault-injection suite (defined in faults.py, next to the tools they use)."""

from faults import recorder, workers

__all__ = ["recorder", "workers"]

"""jq: a Redis-backed background job runner, driven from the command line."""

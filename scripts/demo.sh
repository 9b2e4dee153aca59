#!/bin/sh
# The demo behind `make demo`: embedded Redis, one worker, three demo jobs, live progress bars.
set -eu
jq() { .venv/bin/python -m jq "$@"; }

jq server start
.venv/bin/python -m jq worker --concurrency 3 2> .jq-home/worker.log &
worker=$!
trap 'kill -TERM $worker 2>/dev/null; wait $worker 2>/dev/null || true' EXIT INT TERM

a=$(jq add demo --steps 20 --interval 0.15)
b=$(jq add demo --steps 12 --interval 0.25 --priority 5)
c=$(jq add demo --steps 8 --interval 0.3 --fail-at 6 --attempts 2 --backoff 1)
echo "enqueued jobs $a $b $c; watching them (job $c fails on purpose, twice)" >&2
jq watch "$a" "$b" "$c" || true
jq ls --limit 3
echo "worker log:" >&2
cat .jq-home/worker.log >&2
echo "the embedded Redis keeps the jobs in .jq-home; try: JQ_HOME=.jq-home .venv/bin/jq ls" >&2
echo "(stop it with: JQ_HOME=.jq-home .venv/bin/jq server stop, or make clean)" >&2

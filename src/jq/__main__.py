"""`python -m jq`: the same as the `jq` command."""

from jq.cli import main

raise SystemExit(main())

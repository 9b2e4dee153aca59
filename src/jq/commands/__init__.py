"""One module per jq command."""

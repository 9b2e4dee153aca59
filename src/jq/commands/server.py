"""`jq server start|stop|status`: manage the embedded Redis server."""

from __future__ import annotations

import json
from typing import Annotated

import typer

app = typer.Typer(name="server", help="Manage the embedded Redis server.", no_args_is_help=True)


@app.command()
def start(
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to wait for the server to answer.")
    ] = 10.0,
) -> None:
    """Start the embedded Redis server unless it is already running."""
    from jq.server import embedded_server
    from jq.settings import load_settings

    server = embedded_server(load_settings())
    if server.is_running():
        typer.echo(f"already running at {server.url}", err=True)
        return
    server.start(timeout=timeout)
    typer.echo(f"started at {server.url}", err=True)


@app.command()
def stop(
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for it to exit.")] = 10.0,
) -> None:
    """Stop the embedded Redis server; its data stays on disk."""
    from jq.server import embedded_server
    from jq.settings import load_settings

    server = embedded_server(load_settings())
    if server.stop(timeout=timeout):
        typer.echo("stopped", err=True)
    else:
        typer.echo("not running", err=True)


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Show whether the embedded server runs, where, and its memory and AOF figures."""
    from jq.connection import describe
    from jq.server import EmbeddedServer
    from jq.settings import load_settings

    settings = load_settings()
    if settings.embedded:
        report = EmbeddedServer(settings.home).status()
    else:
        report = {"embedded": False, "redis": describe(settings)}
    if as_json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        if value is not None:
            print(f"{key}: {value}")

"""`tend serve`, `scheduler`, `worker`: the long-running processes."""

from __future__ import annotations

import logging
import signal
import threading

import click

from adapters.cli.base import (
    clock_of,
    config_from,
    database_url_of,
    engine_for,
    main,
    reports_errors,
)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="gunicorn worker processes.")
@click.pass_context
@reports_errors
def serve_command(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Run the HTTP API (gunicorn): JSON endpoints, /openapi.json, /docs, /healthz, /metrics."""
    from adapters.http.app import create_app
    from adapters.http.secret_key import check_key
    from adapters.http.server import serve

    config = config_from(ctx)
    check_key(database_url_of(ctx))
    serve(lambda: create_app({"TEND_CONFIG": config}), host, port, workers)


def _until_signalled() -> threading.Event:
    """A long-running command logs to stderr and stops cleanly on SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


# --- scheduler ---


@main.command("scheduler")
@click.option("--every", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="Seconds between lease renewals, library reloads and ticket advances.")
@click.option("--ttl", type=click.FloatRange(min=1.0), default=30.0, show_default=True,
              help="Seconds a lease lasts: a dead scheduler is replaced after this.")
@click.pass_context
@reports_errors
def scheduler_command(ctx: click.Context, every: float, ttl: float) -> None:
    """Run the cron sweeps of the scheduled playbooks (one active scheduler per database)."""
    import datetime as dt
    import os
    import socket

    from adapters.tickets.scheduler import Scheduler

    stop = _until_signalled()
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    holder = f"{socket.gethostname()}:{os.getpid()}"
    with engine_for(ctx) as engine:
        Scheduler(engine, config_from(ctx), holder, dt.timedelta(seconds=ttl),
                  clock_of(ctx)).run(stop, every)


# --- worker ---


@main.command("worker")
@click.option("--once", is_flag=True, help="One round: push the due tasks, print counts, exit.")
@click.option("--batch", type=click.IntRange(min=1), default=100, show_default=True,
              help="Tasks claimed per round.")
@click.option("--every", type=click.FloatRange(min=0.1), default=2.0, show_default=True,
              help="Seconds between rounds when there was less than a batch to do.")
@click.pass_context
@reports_errors
def worker_command(ctx: click.Context, once: bool, batch: int, every: float) -> None:
    """Push due tasks of log, webhook and smtp channels (many workers may share a database)."""
    import json

    from adapters.channels.registry import pushers
    from adapters.tasks.worker import run, run_once

    config = config_from(ctx)
    channels = pushers(config.channels, clock_of(ctx))
    with engine_for(ctx) as engine:
        if once:
            counts = run_once(engine, channels, batch, config.task_lease, clock_of(ctx)(),
                              policy=config.policy)
            click.echo(json.dumps(counts, sort_keys=True))
            return
        run(engine, channels, batch, config.task_lease, every, _until_signalled(),
            clock=clock_of(ctx), policy=config.policy)

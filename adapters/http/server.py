"""`tend serve`: gunicorn run in-process, so the service starts the same way everywhere."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication


class Server(BaseApplication):
    """gunicorn with our options instead of its command line; each worker builds its own
    app (no preload), so no database connection is shared across a fork."""

    def __init__(self, make_app: Callable[[], Any], options: dict[str, Any]) -> None:
        self.make_app = make_app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """The worker's app. What exists once it is built lives as long as the worker, so it is
        moved out of the garbage collector's sight (gc.freeze): full collections no longer
        walk it again and again, which had cost a tenth of a busy worker's time."""
        app = self.make_app()
        gc.freeze()
        return app


def serve(make_app: Callable[[], Any], host: str, port: int, workers: int) -> None:
    Server(make_app, {"bind": f"{host}:{port}", "workers": workers,
                      "accesslog": None, "timeout": 60, "graceful_timeout": 10}).run()

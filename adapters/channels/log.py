"""The `log` channel: one JSON line per task or cancel appended to a file, phones and emails
masked: a log is not a contact list."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.channels.base import DELIVERED, Outcome, Push, message
from engine.privacy import mask_personal_data


def log_push(path: Path) -> Push:
    def write(task: Mapping[str, Any], kind: str) -> Outcome:
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(mask_personal_data(None, "", message(task, kind)), sort_keys=True,
                          default=str)
        with path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return Outcome(DELIVERED, f"logged to {path}")

    return write

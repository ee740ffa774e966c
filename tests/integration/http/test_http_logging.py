"""Request logs are JSON lines without phone numbers or email addresses."""

from __future__ import annotations

import json

import pytest
import structlog

from adapters.http.observe import configure_logging


def test_personal_data_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()
    structlog.get_logger("t").info(
        "customer", phone="+86 138 0000 0000", email="li.wei@example.com",
        detail="call +8613800000000 or mail li.wei@example.com on 2026-11-20 for c0000042",
        rows=[{"phone": "13800000000", "id": "c1"}])
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["phone"] == line["email"] == "***"
    assert line["detail"] == "call ***00 or mail l***@example.com on 2026-11-20 for c0000042"
    assert line["rows"] == [{"phone": "***", "id": "c1"}]

"""Cron schedules in words: what approvers read on the library, ticket and draft pages
instead of crontab(5) text, in both languages; an uncommon shape shows the cron text."""

from __future__ import annotations

import pytest

from engine.playbooks.cron_words import cron_in_words

TABLE = [
    ("0 9 1 * *", "每月1日 09:00", "monthly on day 1 at 09:00"),
    ("30 8 1,15 * *", "每月1日、15日 08:30", "monthly on days 1, 15 at 08:30"),
    ("0 9 * * *", "每天 09:00", "daily at 09:00"),
    ("0 9,18 * * *", "每天 09:00、18:00", "daily at 09:00, 18:00"),
    ("0 10 * * 1-5", "工作日（周一至周五）10:00", "on weekdays (Monday to Friday) at 10:00"),
    ("0 10 * * mon-fri", "工作日（周一至周五）10:00", "on weekdays (Monday to Friday) at 10:00"),
    ("0 10 * * 0,6", "周末 10:00", "on weekends at 10:00"),
    ("15 7 * * 1", "每周一 07:15", "every Monday at 07:15"),
    ("0 20 * * 7,3", "每周三、日 20:00", "every Wednesday, Sunday at 20:00"),
    ("0 9 1 1 *", "每年1月1日 09:00", "yearly on January 1 at 09:00"),
    ("0 9 14 feb *", "每年2月14日 09:00", "yearly on February 14 at 09:00"),
    ("5 * * * *", "每小时第5分", "hourly at minute 5"),
    ("*/15 * * * *", "每15分钟", "every 15 minutes"),
    ("0 */2 * * *", "每2小时（第0分）", "every 2 hours at minute 0"),
]


@pytest.mark.parametrize(("cron", "zh", "en"), TABLE)
def test_common_schedules_read_as_words(cron: str, zh: str, en: str) -> None:
    assert cron_in_words(cron, "zh") == zh
    assert cron_in_words(cron, "en") == en


@pytest.mark.parametrize("cron", ["0 9 1-7 * 1", "0 9 */2 * *", "0 9 1 1,6 *",
                                  "0 9 * 3 *", "0 9-17/2 * * *", "not a cron"])
def test_an_uncommon_shape_shows_the_cron_text(cron: str) -> None:
    assert cron_in_words(cron, "zh") == f"cron {cron}"
    assert cron_in_words(cron, "en") == f"cron {cron}"

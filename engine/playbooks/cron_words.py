"""A cron schedule in words, in English or Chinese, for people who do not read crontab(5).

Approvers and designers see "每月1日 09:00" / "monthly on day 1 at 09:00" instead of
`0 9 1 * *`. Only the common shapes are spelled out (daily, weekly, weekdays, monthly,
yearly, hourly, every N minutes or hours); anything else falls back to the cron text with a
"cron" prefix, so a reader is never told something the schedule does not say.
"""

from __future__ import annotations

import re

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_EN_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_ZH_DAYS = ("日", "一", "二", "三", "四", "五", "六")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_NUMBER = re.compile(r"^[0-9]+$")
_STEP = re.compile(r"^\*/([0-9]+)$")


def cron_in_words(text: str, lang: str) -> str:
    """`text` (a checked five-field cron string) in words in `lang` ("zh" or "en", anything
    else reads as English); an uncommon shape comes back as "cron <text>"."""
    zh = lang == "zh"
    parts = text.split()
    spelled = _spell(parts, zh) if len(parts) == 5 else None
    return spelled or f"cron {' '.join(parts) or text}"


def _spell(parts: list[str], zh: bool) -> str | None:
    minute, hour, dom, month, dow = parts
    if (every := _STEP.match(minute)) and hour == dom == month == dow == "*":
        n = int(every.group(1))
        return f"每{n}分钟" if zh else f"every {n} minutes"
    if not _NUMBER.match(minute) or int(minute) > 59:
        return None
    if hour == "*" and dom == month == dow == "*":
        return f"每小时第{int(minute)}分" if zh else f"hourly at minute {int(minute)}"
    if (every := _STEP.match(hour)) and dom == month == dow == "*":
        n = int(every.group(1))
        return (f"每{n}小时（第{int(minute)}分）" if zh
                else f"every {n} hours at minute {int(minute)}")
    hours = _numbers(hour, 0, 23)
    if not hours:
        return None
    at = ", ".join(f"{h:02d}:{int(minute):02d}" for h in hours)
    at_zh = "、".join(f"{h:02d}:{int(minute):02d}" for h in hours)
    if dom == month == "*":
        return _weekly(dow, at, at_zh, zh)
    days = _numbers(dom, 1, 31)
    if not days or dow != "*":
        return None
    if month == "*":
        if zh:
            return "每月" + "、".join(f"{d}日" for d in days) + f" {at_zh}"
        word = "day" if len(days) == 1 else "days"
        return f"monthly on {word} {', '.join(map(str, days))} at {at}"
    months = _numbers(month, 1, 12, _MONTHS, base=1)
    if len(months) != 1 or len(days) != 1:
        return None
    if zh:
        return f"每年{months[0]}月{days[0]}日 {at_zh}"
    return f"yearly on {_EN_MONTHS[months[0] - 1]} {days[0]} at {at}"


def _weekly(dow: str, at: str, at_zh: str, zh: bool) -> str | None:
    if dow == "*":
        return f"每天 {at_zh}" if zh else f"daily at {at}"
    days = sorted({d % 7 for d in _numbers(dow, 0, 7, _WEEKDAYS)})
    if not days:
        return None
    if days == [1, 2, 3, 4, 5]:
        return f"工作日（周一至周五）{at_zh}" if zh else f"on weekdays (Monday to Friday) at {at}"
    if days == [0, 6]:
        return f"周末 {at_zh}" if zh else f"on weekends at {at}"
    ordered = sorted(days, key=lambda d: (d == 0, d))  # Monday first, Sunday last
    if zh:
        return "每周" + "、".join(_ZH_DAYS[d] for d in ordered) + f" {at_zh}"
    return "every " + ", ".join(_EN_DAYS[d] for d in ordered) + f" at {at}"


def _numbers(field: str, low: int, high: int, names: tuple[str, ...] = (),
             base: int = 0) -> list[int]:
    """The values of a list of numbers, names and ranges (`1-5,7`, `mon-fri`); an empty list
    for anything else (steps, `*`, a value out of range), which the caller spells as cron."""
    found: list[int] = []
    for item in field.lower().split(","):
        ends = item.split("-")
        if len(ends) > 2:
            return []
        values = [_value(e, names, base) for e in ends]
        if any(v is None or not low <= v <= high for v in values):
            return []
        first, last = values[0], values[-1]
        assert first is not None and last is not None
        if first > last:
            return []
        found.extend(range(first, last + 1))
    return sorted(set(found))


def _value(text: str, names: tuple[str, ...], base: int) -> int | None:
    if _NUMBER.match(text):
        return int(text)
    if text in names:
        return names.index(text) + base
    return None

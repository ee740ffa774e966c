"""Result reason codes (结果原因): why a contact ended as it did, from a list config.yaml
declares, so results can be counted, sorted and exported by reason rather than read from
free text.

```yaml
result_reasons:
  codes:
    not_interested: {zh: 不感兴趣, en: Not interested}
    wrong_number: {zh: 号码错误, en: Wrong number, bad_phone: true}
  required: [declined]   # results that need a reason when a person records them
```

A code with `bad_phone: true` marks the customer's phone as wrong: the contact policy then
suppresses every channel that uses the phone (`contact_policy.phone_channels`) until the
customer's phone changes (engine.tasks.policy, reason `wrong_number`). `required` binds results a
person records (a task on a manager's desk: they pick from the list); an adapter may send a
reason and it is checked, but a machine's `declined` (an SMS reply) needs none. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import fields, validate

from engine.errors import Invalid
from engine.formats.schemas import NAME, Bool, Entries, Strict, Text
from engine.tasks import task as tk


class _CodeSchema(Strict):
    zh = Text(required=True, validate=validate.Length(min=1))
    en = Text(required=True, validate=validate.Length(min=1))
    bad_phone = Bool(load_default=False)


class ReasonsSchema(Strict):
    codes = Entries(keys=fields.String(validate=NAME), values=fields.Nested(_CodeSchema),
                    load_default=dict)
    required = fields.List(fields.String(validate=validate.OneOf(tk.RESULTS)),
                           load_default=list)


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str
    bad_phone: bool = False

    def label(self, language: str) -> str:
        return self.zh if language.startswith("zh") else self.en


@dataclass(frozen=True)
class ResultReasons:
    codes: Mapping[str, Reason] = field(default_factory=dict)
    required: frozenset[str] = frozenset()

    def check(self, status: str, reason: str | None, by_person: bool) -> Reason | None:
        """The reason given with a result, checked: a declared code, and present where
        `required` names the status and a person reports it. Invalid naming `reason`."""
        if reason is None:
            if by_person and status in self.required:
                raise Invalid(f"reason: a {status} result needs a reason", {"reason": [
                    f"expected one of {', '.join(self.codes) or '(none declared)'}"]})
            return None
        found = self.codes.get(reason)
        if found is None:
            raise Invalid(f"reason: no reason code {reason!r}", {"reason": [
                f"expected one of {', '.join(self.codes) or '(none declared)'}"]})
        return found

    def label(self, code: str | None, language: str) -> str:
        found = self.codes.get(code or "")
        return "" if found is None else found.label(language)


def build_reasons(data: Mapping[str, Any]) -> ResultReasons:
    return ResultReasons(
        codes={code: Reason(code, raw["zh"], raw["en"], raw["bad_phone"])
               for code, raw in data.get("codes", {}).items()},
        required=frozenset(data.get("required", ())))

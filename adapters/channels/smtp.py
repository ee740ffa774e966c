"""The `smtp` channel adapter: a task becomes one plain-text email to the customer.

The mail is rendered from the channel's `templates` option: `{template id: {subject, body}}`,
each a `string.Template` (`$name` or `${name}`) filled from the task's `params` and the
customer's fields (`$customer_id`, `$name`, `$email`, `$manager`), plus `$template`. A
template id the channel does not list gets its id as the subject and one `key: value` line
per param as the body. A placeholder nobody fills stays as written (`safe_substitute`): a
typo shows in the mail rather than losing the task.

SMTP's own reply classes decide the outcome: 2xx is delivery, 4xx (greylisting, a full
mailbox) and connection failures are tried again later, 5xx is a refusal (dead at once). A
customer without an email address is a refusal too: no retry will give them one.
"""

from __future__ import annotations

import os
import smtplib
import string
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from adapters.channels.base import DELIVERED, REFUSED, RETRY, Outcome, Send, masked, number
from engine.errors import ValidationError


def smtp_sender(channel: str, options: Mapping[str, Any]) -> Send:
    """Options `host` (required), `port` (25), `from` (required), `starttls` (false), `user`
    with `password_env` (the NAME of the variable holding the password), `timeout` (10 s),
    `templates`. Checked here, when the worker starts."""
    host, sender = options.get("host"), options.get("from")
    for key, value in (("host", host), ("from", sender)):
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("required for adapter smtp (a non-empty string)",
                                  field=f"channels.{channel}.options.{key}")
    port = int(number(channel, options, "port", 25, int))
    timeout = number(channel, options, "timeout", 10.0, float)
    starttls = options.get("starttls", False)
    if not isinstance(starttls, bool):
        raise ValidationError("expected true or false",
                              field=f"channels.{channel}.options.starttls")
    login = _login(channel, options)
    templates = _templates(channel, options.get("templates", {}))

    def send(task: Mapping[str, Any]) -> Outcome:
        customer = task["payload"].get("customer") or {}
        to = customer.get("email")
        if not to:
            return Outcome(REFUSED, f"customer {task['customer_id']} has no email address")
        mail = _message(task, templates, str(sender), str(to))
        try:
            with smtplib.SMTP(str(host), port, timeout=timeout) as smtp:
                if starttls:
                    smtp.starttls()
                if login:
                    smtp.login(*login)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return _by_code(min(code for code, _ in exc.recipients.values()), str(exc))
        except smtplib.SMTPResponseException as exc:  # sender refused, DATA refused, auth, ...
            return _by_code(exc.smtp_code, f"{exc.smtp_code} {exc.smtp_error!r}")
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out
            return Outcome(RETRY, masked(f"{type(exc).__name__} from {host}:{port}: {exc}"))
        return Outcome(DELIVERED, f"accepted by {host}:{port}")

    return send


def _by_code(code: int, text: str) -> Outcome:
    kind = RETRY if 400 <= code < 500 else REFUSED
    return Outcome(kind, masked(f"SMTP {code}: {text}"))


def _login(channel: str, options: Mapping[str, Any]) -> tuple[str, str] | None:
    user = options.get("user")
    if user is None:
        return None
    env = options.get("password_env")
    password = os.environ.get(str(env or ""))
    if not isinstance(user, str) or not password:
        raise ValidationError(f"the environment variable {env!r} holding the SMTP password of "
                              f"{user!r} is not set",
                              field=f"channels.{channel}.options.password_env")
    return user, password


def _templates(channel: str, value: Any) -> dict[str, tuple[string.Template, string.Template]]:
    where = f"channels.{channel}.options.templates"
    if not isinstance(value, Mapping):
        raise ValidationError("expected a mapping of template id to {subject, body}",
                              field=where)
    found = {}
    for name, parts in value.items():
        if not isinstance(parts, Mapping) or set(parts) - {"subject", "body"} \
                or not all(isinstance(parts.get(k, ""), str) for k in ("subject", "body")):
            raise ValidationError("expected {subject: text, body: text}", field=f"{where}.{name}")
        found[str(name)] = (string.Template(parts.get("subject", "$template")),
                            string.Template(parts.get("body", "")))
    return found


def _message(task: Mapping[str, Any], templates: Mapping[str, Any], sender: str,
             to: str) -> EmailMessage:
    payload = task["payload"]
    customer = payload.get("customer") or {}
    params = {str(k): v for k, v in (payload.get("params") or {}).items()}
    values = {**{k: v for k, v in customer.items() if v is not None}, **params,
              "customer_id": task["customer_id"], "template": payload.get("template")}
    if payload.get("template") in templates:
        subject, body = (part.safe_substitute(values)
                         for part in templates[payload["template"]])
    else:
        subject = str(payload.get("template"))
        body = "".join(f"{key}: {value}\n" for key, value in sorted(params.items()))
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    # One Message-ID per key: a mail sent again after a crash is recognisably the same one.
    domain = sender.rpartition("@")[2] or "tend.invalid"
    mail["Message-ID"] = f"<tend.{task['idempotency_key'].replace(':', '.')}@{domain}>"
    mail["Tend-Idempotency-Key"] = task["idempotency_key"]
    mail.set_content(body)
    return mail

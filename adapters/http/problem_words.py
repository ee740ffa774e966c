"""A playbook's, offer's or workflow's problems in the reader's language, on the console.

The draft editor shows the engine's problems to designers who may read Chinese: each common
shape of message has a sentence in the catalog (adapters/http/problem_shapes.py, the table
`tend validate` words them from too), written here with flask-babel's catalog for the
request, values escaped and lists of names as `<code>`.
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as catalog_gettext
from markupsafe import Markup

from adapters.http.problem_shapes import known, spelled, split

__all__ = ["known", "problem_words"]


def problem_words(message: str) -> Markup:
    """`message` (an engine problem, maybe `path: ...`) in the reader's language; the path
    into the YAML is code (`<code>steps.0.channel</code>`), the same in every language."""
    locale = get_locale()
    path, rest = split(message)
    shown: str = rest
    if locale is not None and locale.language != "en":
        shown = spelled(rest, _markup, _code)
    if not path:
        return Markup("{}").format(shown)
    return Markup("<code>{}</code>: {}").format(path, shown)


def _markup(msgid: str) -> str:
    """The request's sentence as markup: the catalog is trusted, the values its `%` fills
    are escaped."""
    return Markup(catalog_gettext(msgid))


def _code(value: str) -> str:
    return Markup("<code>{}</code>").format(value)

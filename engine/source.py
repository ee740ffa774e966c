"""YAML text with positions, so every error can name `file:line:column`.

ruamel.yaml's round-trip loader keeps the line and column of every key and value; the loaders
walk the loaded nodes and ask `Source.at(...)` where a problem is. Values are turned into plain
Python (dict, list, str, ...) only after validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from engine.errors import Problem, ValidationError

PathKey = str | int
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True)
class Source:
    """A loaded YAML document and the file name its positions refer to."""

    file: str
    root: Any

    def at(self, path: Sequence[PathKey], message: str) -> Problem:
        """A problem placed at the deepest node of `path` that exists in the document."""
        line, column = locate(self.root, path)
        return Problem(self.file, line, column, message)


def load_yaml(text: str, file: str) -> Source:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    yaml.constructor.add_constructor(_TIMESTAMP, RoundTripConstructor.construct_yaml_str)
    try:
        root = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        raise ValidationError([Problem(file, line, column, f"invalid YAML: {reason}")]) from None
    except YAMLError as exc:
        raise ValidationError([Problem(file, 1, 1, f"invalid YAML: {exc}")]) from None
    return Source(file, root)


def locate(node: Any, path: Sequence[PathKey]) -> tuple[int, int]:
    """1-based (line, column) of the node at `path`; a missing key points at its parent."""
    line, column = 1, 1
    for key in path:
        if isinstance(node, CommentedMap) and key in node:
            kl, kc = node.lc.key(key)
            line, column = kl + 1, kc + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(key, int) and 0 <= key < len(node):
            il, ic = node.lc.item(key)
            line, column = il + 1, ic + 1
            node = node[key]
        else:
            break
    return line, column


def plain(node: Any) -> Any:
    """The node as ordinary dicts, lists and scalars (ruamel's subclasses stripped)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def problems_from(source: Source, messages: Any, path: tuple[PathKey, ...] = ()) -> list[Problem]:
    """marshmallow's nested error messages as problems placed in the YAML file."""
    if isinstance(messages, dict):
        found: list[Problem] = []
        for key, inner in messages.items():
            here = path if key == "_schema" else (*path, key)
            found.extend(problems_from(source, inner, here))
        return found
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        name = ".".join(str(p) for p in path) or "document"
        return [source.at(path, f"{name}: {_sentence(m)}") for m in messages]
    if isinstance(messages, list):
        return [p for i, m in enumerate(messages) for p in problems_from(source, m, (*path, i))]
    return [source.at(path, str(messages))]


def _sentence(message: str) -> str:
    """marshmallow's "Unknown field." as "unknown field", leaving quoted values as written."""
    message = message.rstrip(".")
    return message[:1].lower() + message[1:]

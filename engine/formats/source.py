"""YAML text with positions, so every error can name `file:line:column`.

ruamel.yaml's round-trip loader keeps the line and column of every key and value; the loaders
walk the loaded nodes and ask `Source.at(...)` where a problem is. Values are turned into plain
Python (dict, list, str, ...) only after validation.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
)
from ruamel.yaml.parser import RoundTripParser

from engine.errors import Problem, ValidationError
from engine.limits import MAX_DEPTH, MAX_YAML_BYTES, MAX_YAML_NODES

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
    yaml = _Yaml(file)
    yaml.allow_duplicate_keys = False
    yaml.constructor.add_constructor(_TIMESTAMP, RoundTripConstructor.construct_yaml_str)
    _check_size(text, file)
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


@functools.lru_cache(maxsize=64)
def load_yaml_shared(text: str, file: str) -> Source:
    """`load_yaml`, remembered by file name and text, for the library's files: a process reads
    the same few dozen again and again (the scheduler on every tick, to see what changed;
    the test suite for each test) and parsing is nearly all of the cost of loading them. A
    changed file is a new text, so it is parsed again; a file that fails is not remembered.
    The Source is shared by everyone who read the same text: read it, never change it (every
    reader does: the loaders take `plain` copies and ask `at` for places)."""
    return load_yaml(text, file)


def _check_size(text: str, file: str) -> None:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        raise ValidationError([Problem(file, 1, 1, f"larger than {MAX_YAML_BYTES} bytes")])


class _Yaml(YAML):
    """ruamel's round-trip YAML reading `file` through the shape-checking parser (ruamel
    makes the parser with this object as its `loader`)."""

    def __init__(self, file: str) -> None:
        super().__init__(typ="rt")
        self.file = file
        self.Parser = _ShapeCheckingParser


class _ShapeCheckingParser(RoundTripParser):
    """ruamel's round-trip parser, refusing deep nesting and alias bombs as the loader takes
    each event, before the composer builds anything from it.

    The composer recurses once per level, and every later walk (validation, `plain`) expands
    each alias into a copy of what it names: nine levels of ten aliases are a billion
    values from a few hundred bytes. So values are counted as if aliases were expanded
    (the size of each anchored node is known when its alias appears), and an alias of a
    node that is still open (a structure containing itself) is refused. The composer takes
    every event through `get_event`, a collection's start before anything inside it, so the
    count is ahead of what it has built. (The file used to be parsed twice, once for this
    check and once to load it: parsing was nearly all of the time of loading the library.)
    """

    def __init__(self, loader: Any) -> None:
        super().__init__(loader)
        self._nodes = 0
        self._open: list[tuple[str | None, int]] = []
        self._sizes: dict[str, int] = {}

    def get_event(self) -> Any:
        event = super().get_event()
        reason = self._count(event)
        if self._nodes > MAX_YAML_NODES and reason is None:
            reason = f"more than {MAX_YAML_NODES} values (aliases count as what they repeat)"
        if reason is not None:
            mark = event.start_mark
            raise ValidationError([Problem(self.loader.file, mark.line + 1, mark.column + 1,
                                           reason)])
        return event

    def _count(self, event: Any) -> str | None:
        """Counts `event`; why the document is refused at it, if it is."""
        if isinstance(event, AliasEvent):
            self._nodes += self._sizes.get(event.anchor, 1)
            if any(anchor == event.anchor for anchor, _ in self._open):
                return f"alias *{event.anchor} inside its own anchor (a recursive structure)"
        elif isinstance(event, CollectionStartEvent):
            self._open.append((event.anchor, self._nodes))
            self._nodes += 1
            if len(self._open) > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
        elif isinstance(event, CollectionEndEvent):
            anchor, start = self._open.pop()
            if anchor is not None:
                self._sizes[anchor] = self._nodes - start
        elif isinstance(event, NodeEvent):  # a scalar
            self._nodes += 1
            if event.anchor is not None:
                self._sizes[event.anchor] = 1
        return None


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

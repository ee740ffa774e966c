"""The playbook library: every playbook and workflow, loaded and checked together.

Loading is all-or-nothing: one bad file raises a ValidationError listing every problem of every
file, and no Library is returned, so a running service keeps the set it has. `check_paths`
validates files a designer names (playbooks, workflows, test cases) against the installed
library, which they override, reporting problems of the named files only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.config import Config
from engine.errors import NotFound, Problem, ValidationError
from engine.formats.source import Source, load_yaml_shared
from engine.playbooks.casebook import Case, parse_cases
from engine.playbooks.offer import Offer, offer_from
from engine.playbooks.playbook import Playbook
from engine.playbooks.playbook_loader import parse_playbook, playbook_from
from engine.playbooks.policy_fit import policy_warnings
from engine.playbooks.workflow import Workflow, workflow_from

SUFFIXES = (".yaml", ".yml")
KINDS = ("cases", "playbook", "workflow", "offer")  # the top-level key that tells a file's kind


@dataclass(frozen=True)
class Library:
    playbooks: Mapping[str, Playbook]
    workflows: Mapping[str, Workflow]
    offers: Mapping[str, Offer] = field(default_factory=dict)


@dataclass(frozen=True)
class Document:
    """A file read and parsed as YAML; `kind` is None when its top level says nothing."""

    path: Path
    text: str
    source: Source
    kind: str | None


@dataclass(frozen=True)
class Checked:
    """The outcome of `check_paths`: the library in effect, the cases, and what is wrong."""

    library: Library
    cases: tuple[Case, ...]
    summaries: tuple[str, ...]
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()  # engine.playbooks.policy_fit: valid, but the policy bites


def load_library(config: Config) -> Library:
    """Every playbook, offer and workflow of the config's folders (`config.folders`)."""
    problems: list[Problem] = []
    folders = config.folders
    wf_docs = _read_all(yaml_files([folders.workflows], problems), problems)
    pb_docs = _read_all(yaml_files([folders.rules], problems), problems)
    of_docs = (_read_all(yaml_files([folders.offers], problems), problems)
               if folders.offers.is_dir() else [])
    found = _workflows(wf_docs, config, problems)
    offers = _offers(of_docs, config, problems)
    playbooks = _playbooks(pb_docs, config, dict(found), problems, offers)
    if problems:
        raise ValidationError(problems)
    return Library(playbooks, {k: v for k, v in found.items() if v is not None},
                   {k: v for k, v in offers.items() if v is not None})


def load_draft(path: Path, library: Library, config: Config) -> Playbook:
    """A playbook file checked against the installed workflows, not installed itself."""
    problems: list[Problem] = []
    text = _read(path, problems)
    if text is None:
        raise ValidationError(problems)
    return parse_playbook(text, str(path), config, library.workflows, library.offers)


def find_playbook(name: str, library: Library, config: Config) -> Playbook:
    """A PLAYBOOK argument: an id of the library, or the path of a draft .yaml file."""
    if name in library.playbooks:
        return library.playbooks[name]
    path = Path(name)
    if path.suffix in SUFFIXES or path.exists():
        return load_draft(path, library, config)
    raise NotFound(f"unknown playbook {name!r} (expected one of: "
                   f"{', '.join(sorted(library.playbooks))}, or the path of a .yaml file)")


def check_paths(paths: Sequence[Path], config: Config) -> Checked:
    """Validate the named files (folders: their *.yaml) against the installed library."""
    problems: list[Problem] = []
    docs = _read_all(yaml_files(paths, problems), problems)
    given = {doc.path.resolve() for doc in docs}
    installed = installed_library(config, given)
    by_kind: dict[str | None, list[Document]] = {kind: [] for kind in (*KINDS, None)}
    for doc in docs:
        by_kind[doc.kind].append(doc)
    for doc in by_kind[None]:
        problems.append(doc.source.at([], "expected a playbook (a 'playbook:' key), a workflow "
                                          "('workflow:'), an offer ('offer:') or test cases "
                                          "('cases:')"))
    found = {**installed.workflows, **_workflows(by_kind["workflow"], config, problems)}
    offers = {**installed.offers, **_offers(by_kind["offer"], config, problems)}
    checked = _playbooks(by_kind["playbook"], config, found, problems, offers)
    playbooks = {**installed.playbooks, **checked}
    cases: list[Case] = []
    for doc in by_kind["cases"]:
        try:
            cases.extend(parse_cases(doc.source, playbooks, config))
        except ValidationError as exc:
            problems.extend(exc.problems)
    library = Library(playbooks, {k: v for k, v in found.items() if v is not None},
                      {k: v for k, v in offers.items() if v is not None})
    summaries = () if problems else tuple(_summary(doc, library, cases) for doc in docs)
    warnings = [w for pb in checked.values() for w in policy_warnings(pb, config)]
    return Checked(library, tuple(cases), summaries, tuple(sorted(problems)),
                   tuple(sorted(warnings)))


def yaml_files(paths: Iterable[Path], problems: list[Problem]) -> list[Path]:
    """Files as given; folders contribute their *.yaml and *.yml files (not subfolders)."""
    files: dict[Path, Path] = {}  # by resolved path: a file named twice is read once
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        elif path.is_file():
            found = [path]
        else:
            problems.append(Problem(str(path), 0, 0, "no such file or folder"))
            found = []
        for file in found:
            files.setdefault(file.resolve(), file)
    return list(files.values())


def _read(path: Path, problems: list[Problem]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        problems.append(Problem(str(path), 0, 0, f"cannot read: {reason}"))
        return None


def _read_all(paths: Iterable[Path], problems: list[Problem]) -> list[Document]:
    docs = []
    for path in paths:
        text = _read(path, problems)
        if text is None:
            continue
        try:
            source = load_yaml_shared(text, str(path))
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        root = source.root
        kind = next((k for k in KINDS if k in root), None) if isinstance(root, dict) else None
        docs.append(Document(path, text, source, kind))
    return docs


def _workflows(docs: Iterable[Document], config: Config,
               problems: list[Problem]) -> dict[str, Workflow | None]:
    """Workflows by id; a file that fails keeps its id known (as None) to avoid echo errors."""
    found: dict[str, Workflow | None] = {}
    places: dict[str, str] = {}
    for doc in docs:
        name = _declared_id(doc, "workflow", places, problems)
        try:
            workflow: Workflow | None = workflow_from(doc.source, config)
        except ValidationError as exc:
            problems.extend(exc.problems)
            workflow = None
        if name is not None:
            found[name] = workflow
    return found


def _offers(docs: Iterable[Document], config: Config,
            problems: list[Problem]) -> dict[str, Offer | None]:
    """Offers by id; like workflows, a file that fails keeps its id known (as None), so a
    playbook naming it is not a second error."""
    found: dict[str, Offer | None] = {}
    places: dict[str, str] = {}
    for doc in docs:
        name = _declared_id(doc, "offer", places, problems)
        try:
            offer: Offer | None = offer_from(doc.source, doc.text, config)
        except ValidationError as exc:
            problems.extend(exc.problems)
            offer = None
        if name is not None:
            found.setdefault(name, offer)
    return found


def _playbooks(docs: Iterable[Document], config: Config,
               workflows: Mapping[str, Workflow | None],
               problems: list[Problem],
               offers: Mapping[str, Offer | None]) -> dict[str, Playbook]:
    found: dict[str, Playbook] = {}
    places: dict[str, str] = {}
    for doc in docs:
        _declared_id(doc, "playbook", places, problems)
        try:
            playbook = playbook_from(doc.source, doc.text, config, workflows, offers)
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        found.setdefault(playbook.id, playbook)
    return found


def _declared_id(doc: Document, key: str, places: dict[str, str],
                 problems: list[Problem]) -> str | None:
    """The id a file declares; a second file declaring the same id is a problem."""
    root: Any = doc.source.root
    name = root.get(key) if isinstance(root, dict) else None
    if not isinstance(name, str):
        return None
    here = doc.source.at([key], "")
    if name in places:
        problems.append(doc.source.at([key], f"duplicate {key} id {name!r}: also in "
                                             f"{places[name]} (expected ids unique "
                                             f"across files)"))
    else:
        places[name] = f"{here.file}:{here.line}"
    return name


def installed_library(config: Config, skip: Set[Path] = frozenset()) -> Library:
    """What the library folders hold that loads, minus `skip` (resolved paths); tolerant of
    broken files, because a draft is checked against whatever is installed."""
    ignored: list[Problem] = []
    folders = config.folders
    wf = [d for d in _read_all(yaml_files([folders.workflows], ignored), ignored)
          if d.path.resolve() not in skip]
    pb = [d for d in _read_all(yaml_files([folders.rules], ignored), ignored)
          if d.path.resolve() not in skip]
    of = [d for d in _read_all(yaml_files([folders.offers], ignored), ignored)
          if d.path.resolve() not in skip] if folders.offers.is_dir() else []
    workflows = _workflows(wf, config, ignored)
    offers = _offers(of, config, ignored)
    playbooks = _playbooks(pb, config, workflows, ignored, offers)
    return Library(playbooks, {k: v for k, v in workflows.items() if v is not None},
                   {k: v for k, v in offers.items() if v is not None})


def _summary(doc: Document, library: Library, cases: Sequence[Case]) -> str:
    root: Any = doc.source.root
    if doc.kind == "playbook":
        playbook = library.playbooks.get(root["playbook"])
        version = f" version {playbook.version}" if playbook is not None else ""
        return f"{doc.path}: OK, playbook {root['playbook']}{version}"
    if doc.kind == "workflow":
        return f"{doc.path}: OK, workflow {root['workflow']}"
    if doc.kind == "offer":
        offer = library.offers.get(root["offer"])
        version = f" version {offer.version}" if offer is not None else ""
        return f"{doc.path}: OK, offer {root['offer']}{version}"
    count = sum(1 for case in cases if case.file == str(doc.path))
    return f"{doc.path}: OK, {count} test case(s)"

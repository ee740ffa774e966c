"""The edges render, the services read and write (docs/ARCHITECTURE.md, on the edges).

import-linter keeps adapters.db.schema out of adapters/http and adapters/cli
([tool.importlinter] in pyproject.toml); this keeps SQL out by the other routes: a statement
built from `sqlalchemy` itself, or a connection executed in an edge. Edges may import
`sqlalchemy.engine` (the Connection they hand to services, URLs) and `sqlalchemy.exc`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EDGES = ("adapters/http", "adapters/cli")
NOT_YET: set[str] = set()  # an edge still reading tables while it moves (none today)
ALLOWED = ("sqlalchemy.engine", "sqlalchemy.exc")
RUNS_SQL = {"execute", "exec_driver_sql", "scalar", "scalars"}


def _sql_in(path: Path, root: Path = ROOT) -> list[str]:
    place = path.relative_to(root).as_posix()
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [alias.name for alias in node.names])
            found += [f"{place}:{node.lineno}: imports {name}" for name in names
                      if name.split(".")[0] == "sqlalchemy" and name not in ALLOWED]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in RUNS_SQL):
            found.append(f"{place}:{node.lineno}: .{node.func.attr}(...)")
    return found


def test_no_edge_builds_or_runs_sql() -> None:
    """A query written in a page or a command is a second copy of a service's rules (the
    version diff was once written twice, and differently)."""
    sources = [path for edge in EDGES for path in sorted((ROOT / edge).rglob("*.py"))
               if path.relative_to(ROOT).as_posix() not in NOT_YET]
    assert len(sources) > 20
    assert [hit for path in sources for hit in _sql_in(path)] == []


def test_the_check_sees_a_statement_built_and_run_in_an_edge(tmp_path: Path) -> None:
    probe = tmp_path / "adapters/http/console/page.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("import sqlalchemy as sa\nfrom sqlalchemy.engine import Connection\n\n"
                     "def rows(conn: Connection) -> object:\n"
                     "    return conn.execute(sa.select(1))\n", encoding="utf-8")
    assert _sql_in(probe, tmp_path) == ["adapters/http/console/page.py:1: imports sqlalchemy",
                                        "adapters/http/console/page.py:5: .execute(...)"]

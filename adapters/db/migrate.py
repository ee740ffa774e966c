"""Bring a database to the newest schema with Alembic, from any working directory.

alembic.ini sits at the repository root next to the installed (editable) packages, so it is
found relative to this file rather than to the caller's current directory.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig(str(ALEMBIC_INI))
    # '%' is ConfigParser's interpolation character; URLs may contain it in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Run every migration not yet applied to the database at `url` (alembic upgrade head)."""
    command.upgrade(alembic_config(url), "head")

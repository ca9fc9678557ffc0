"""Run Alembic migrations programmatically (app start-up, tests, the local platform)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def sync_url(database_url: str) -> str:
    """The synchronous-driver twin of an async URL (Alembic runs synchronously)."""
    return database_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at this package's migrations and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation treats % specially (URL-encoded passwords).
    config.set_main_option("sqlalchemy.url", sync_url(database_url).replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Apply every migration up to head; safe to call on an up-to-date database."""
    command.upgrade(alembic_config(database_url), "head")

"""Persistence: SQLAlchemy 2 models (shared by gateway and worker) and Alembic migrations."""

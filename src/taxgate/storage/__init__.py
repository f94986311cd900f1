"""The store: SQLAlchemy 2 models, Alembic migrations, SQLite by default, PostgreSQL by URL."""

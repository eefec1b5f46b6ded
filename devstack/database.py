"""Scratch PostgreSQL databases: a migrated template, clones of it, drops; `psql`."""

import subprocess

from devstack.commands import manage


class DatabaseServer:
    """A PostgreSQL server (`postgres://user@host:port`) we make and drop databases on.

    Names are ours (bench_*, faults_*), never input: they are put in the SQL as they are.
    """

    def __init__(self, url: str = "postgres://postgres@127.0.0.1:5432"):
        self.server = url.rstrip("/")

    def url(self, name: str) -> str:
        return f"{self.server}/{name}"

    def execute(self, sql: str, database: str = "postgres") -> list:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cursor = conn.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def exists(self, name: str) -> bool:
        return bool(self.execute(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))  # noqa: S608

    def drop(self, name: str) -> None:
        """Gone, even with sessions still connected to it."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def clone(self, template: str, name: str) -> str:
        """`name` made afresh as a copy of `template`; returns its URL."""
        self.drop(name)
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def ensure_migrated(self, name: str, env: dict, note=print) -> str:
        """`name` with every migration applied: made and migrated the first time (about a
        minute: dj-stripe's migrations), migrated again only when `migrate --check` finds
        one missing. `env` is the environment `manage.py` runs with (its DATABASE_URL is
        replaced). Returns the database's URL."""
        env = {**env, "DATABASE_URL": self.url(name)}
        if self.exists(name):
            if manage("migrate", "--check", env=env).returncode == 0:
                return self.url(name)
            note(f"{name}: migrations missing, migrating")
        else:
            note(f"creating {name} with manage.py migrate (about a minute the first time)")
            self.execute(f'CREATE DATABASE "{name}"')
        manage("migrate", "-v0", env=env, check=True)
        return self.url(name)


def psql(url: str, sql: str, timeout: float = 600) -> str:
    """Run `sql` (several statements allowed) with psql; its output, unaligned, no header."""
    out = subprocess.run(  # noqa: S603
        ["psql", url, "-XAtq", "-v", "ON_ERROR_STOP=1"],  # noqa: S607
        input=sql,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"psql failed: {out.stderr}")
    return out.stdout.strip()


def current_database_url() -> str:
    """The URL of the database this Django process uses (the test database under pytest)."""
    from django.db import connection

    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"

"""A private PostgreSQL cluster, for a run that stops and starts its database server.

`initdb` into a temp dir (as the `postgres` user when we are root), on a free loopback port,
fsync off. The machine's own server is never touched.
"""

import os
import pwd
import shutil
import subprocess
import tempfile

from devstack.ports import free_port


def pg_bin(name: str) -> str:
    """A PostgreSQL program of the newest version installed (Debian's layout)."""
    versions = sorted(
        (p for p in os.listdir("/usr/lib/postgresql") if p.isdigit()), key=int, reverse=True
    )
    return f"/usr/lib/postgresql/{versions[0]}/bin/{name}"


class PostgresCluster:
    """`init()`, then `pg_ctl("start")`; `destroy()` stops it and removes its files."""

    def __init__(self, prefix: str = "postgres-cluster-"):
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix=prefix)
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "postgres.log")
        self.as_user = []
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.root, postgres.pw_uid, postgres.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def run(self, *args: str, check=True, **options) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 (fixed binaries)
            [*self.as_user, *args], capture_output=True, timeout=120, check=check, **options
        )

    def init(self):
        self.run(pg_bin("initdb"), "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")
        return self

    def pg_ctl(self, action: str, *extra: str):
        """`pg_ctl <action>` (start, stop -m fast ...), waiting until it is done."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        return self.run(
            pg_bin("pg_ctl"), "-D", self.data, "-l", self.log, "-o", options, "-w", *extra, action
        )

    @property
    def server(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def copy_schema(self, source_url: str, name: str) -> str:
        """Database `name` here, with the schema and rows of `source_url` (pg_dump | psql)."""
        psql = pg_bin("psql")
        subprocess.run(  # noqa: S603
            [psql, f"{self.server}/postgres", "-qc", f'CREATE DATABASE "{name}"'],
            check=True,
            capture_output=True,
        )
        dump = subprocess.run(  # noqa: S603
            [pg_bin("pg_dump"), "--no-owner", source_url], check=True, capture_output=True
        )
        subprocess.run(  # noqa: S603
            [psql, f"{self.server}/{name}", "-q", "-v", "ON_ERROR_STOP=1"],
            input=dump.stdout,
            check=True,
            capture_output=True,
        )
        return f"{self.server}/{name}"

    def destroy(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

"""The shop deployed the way docs/deploy.md says, in a scratch folder: `scripts/deploy-smoke`
and tests/e2e/test_production_stack.py.

The guide's blocks marked `<!-- ci: <step> -->` are the commands: the shell steps run in
bash, the SQL steps through psql, and gunicorn, the Celery worker and beat are started
from the `web`, `worker` and `beat` blocks (a test holds the systemd units and compose.yaml
to the same commands). The guide's absolute paths (/srv/shop, /etc/shop, /var/lib/shop,
/run/shop) are put under the scratch folder; the database and its two roles get scratch
names; gunicorn binds a free loopback port (GUNICORN_BIND); the Stripe emulator stands in
for Stripe. `stop()` ends every process and drops the database and the roles.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from devstack.database import DatabaseServer, psql
from devstack.emulator import Emulator
from devstack.ports import free_port
from devstack.process import ROOT, Process

GUIDE = ROOT / "docs" / "deploy.md"
_MARKED = re.compile(r"^<!-- ci: ([\w-]+) -->\n```(\w+)\n(.*?)^```$", re.S | re.M)
_SHOP_PATH = re.compile(r"(?<![\w./-])/(?:srv|etc|var/lib|run)/shop(?![\w-])")
_SHOP_NAME = re.compile(r"\bshop(_owner|_app)?\b")
WEBHOOK_SECRET = "whsec_deploy_smoke"
PUBLIC_HOST = "shop.example.com"
# What nginx adds to every request it passes on (deploy/nginx/shop.conf).
PROXY_HEADERS = {
    "Host": PUBLIC_HOST,
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "203.0.113.7",
}


def guide_steps(path: Path = GUIDE) -> dict[str, tuple[str, str]]:
    """The marked blocks of the guide: step name -> (language, text), in the page's order."""
    steps = {}
    for name, language, body in _MARKED.findall(path.read_text()):
        if name in steps:
            raise ValueError(f"{path.name}: step {name} is marked twice")
        steps[name] = (language, body.strip())
    return steps


def command_line(body: str) -> str:
    """A one-command block as one line (backslash continuations joined)."""
    return re.sub(r"\s*\\\n\s*", " ", body.strip())


def relocate(text: str, root: Path) -> str:
    """The guide's /srv/shop, /etc/shop, /var/lib/shop and /run/shop moved under `root`."""
    return _SHOP_PATH.sub(lambda match: f"{root}{match.group(0)}", text)


def environment_file(path: Path) -> dict:
    """NAME=value lines, as systemd's EnvironmentFile= reads them (no quoting here)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


class ReleaseProcess(Process):
    """A guide command run from the release folder (the units' WorkingDirectory)."""

    def __init__(self, name: str, argv: list[str], env: dict, cwd: Path, ready, **options):
        self.name = name
        self.cwd = cwd
        self._ready = ready
        super().__init__(argv, env, **options)

    def spawn(self):
        from devstack import process as module

        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (the guide's own commands)
                self.argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        with module._lock:
            if self not in module._running:
                module._running.append(self)
        return self

    def ready(self) -> bool:
        return self._ready(self)


class ProductionStack:
    """docs/deploy.md's steps, then gunicorn, a worker and beat; DEBUG off throughout.

    `redis_url` is the Redis database to use (the queue and cache keys get a prefix of
    their own). The guide's install step builds the release's virtualenv from
    requirements.lock (35 s to a few minutes, with pip's cache); with `install=False` the
    release uses this interpreter's virtualenv instead (the same lock, already installed).
    `extra_env` is added to the shop's environment file; `process_env` only to the
    environment gunicorn, the worker and beat start with (as a systemd drop-in's
    Environment= would), after the guide's checks ran. `timings`: seconds per step.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        server: str = "postgres://postgres@127.0.0.1:5432",
        install: bool = True,
        extra_env: dict | None = None,
        process_env: dict | None = None,
        note=print,
    ):
        self.note = note
        self.scratch = Path(tempfile.mkdtemp(prefix="deploy-smoke-"))
        self.name = f"deploy_smoke_{uuid.uuid4().hex[:8]}"
        self.database = DatabaseServer(server)
        self.release = self.scratch / "srv/shop/releases/smoke"
        self.app = self.scratch / "srv/shop/app"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.timings: dict[str, float] = {}
        self.processes: list[Process] = []
        self.emulator = None
        self._roles_made = False
        self.steps = guide_steps()
        self.process_env = {key: str(value) for key, value in (process_env or {}).items()}
        try:
            self._deploy(redis_url, install, extra_env or {})
        except BaseException:
            self.stop()
            raise

    # --- the guide, step by step -----------------------------------------------------------
    def _deploy(self, redis_url: str, install: bool, extra_env: dict) -> None:
        self._timed("release", self._copy_release)
        if install:
            self._timed("install", lambda: self._shell("install"))
        else:
            (self.release / ".venv").symlink_to(Path(sys.prefix).resolve())
        self.emulator = Emulator(
            webhook_urls=[f"{self.url}/api/v1/webhooks/stripe/"],
            webhook_secret=WEBHOOK_SECRET,
            log_dir=self.scratch,
        ).start()
        self.processes.append(self.emulator)
        self._write_environment(redis_url, extra_env)
        self._roles_made = True  # from here on, stop() drops the database and the roles
        self._timed("sql-roles", lambda: self._sql("sql-roles", self.database.url("postgres")))
        self._timed("collectstatic", lambda: self._shell("collectstatic"))
        self._timed("migrate", lambda: self._shell("migrate"))
        owner = self.database.url(self.name).replace("://postgres@", f"://{self.name}_owner@")
        self._timed("sql-grants", lambda: self._sql("sql-grants", owner))
        self._timed("switch", lambda: self._shell("switch"))
        self._timed("start", self._start_processes)

    def _timed(self, step: str, action) -> None:
        started = time.monotonic()
        action()
        self.timings[step] = round(time.monotonic() - started, 1)
        self.note(f"deploy-smoke: {step} done in {self.timings[step]:.1f}s")

    def _copy_release(self) -> None:
        """The working tree's files (tracked, and new ones not ignored), as a clone has them."""
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.split(b"\0")
        for name in filter(None, (entry.decode() for entry in listed)):
            source = ROOT / name
            if source.is_file() and not source.is_symlink():
                target = self.release / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        for folder in ("etc/shop", "var/lib/shop", "run/shop"):
            (self.scratch / folder).mkdir(parents=True, exist_ok=True)

    def _write_environment(self, redis_url: str, extra_env: dict) -> None:
        from stripe_emulator.keys import placeholder_key

        database = self.database.url(self.name)
        shop_env = {
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": f"{PUBLIC_HOST},127.0.0.1",
            "DATABASE_URL": database.replace("://postgres@", f"://{self.name}_app@"),
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": self.name,
            "CELERY_TASK_DEFAULT_QUEUE": self.name,
            "EMAIL_URL": f"smtp://127.0.0.1:{free_port()}",
            "STRIPE_SECRET_KEY": placeholder_key("sk", "DeploySmoke"),
            "STRIPE_PUBLISHABLE_KEY": placeholder_key("pk", "DeploySmoke"),
            "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.emulator.url,
            "FRONTEND_URL": f"https://{PUBLIC_HOST}/shop/",
            "TRUSTED_PROXIES": "127.0.0.1",
            "BEHIND_TLS_PROXY": "true",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "2",
            **{key: str(value) for key, value in extra_env.items()},
        }
        etc = self.scratch / "etc/shop"
        (etc / "shop.env").write_text("".join(f"{k}={v}\n" for k, v in shop_env.items()))
        owner = database.replace("://postgres@", f"://{self.name}_owner@")
        (etc / "migrate.env").write_text(f"DATABASE_URL={owner}\n")
        self.env_path = etc / "shop.env"

    def _shell(self, step: str) -> None:
        language, body = self.steps[step]
        assert language == "sh", f"step {step} is not a shell block"
        done = subprocess.run(  # noqa: S603
            ["bash", "-euo", "pipefail", "-c", relocate(body, self.scratch)],  # noqa: S607
            cwd=self.scratch,
            env=self._base_env(RELEASE=str(self.release)),
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        if done.returncode != 0:
            output = f"{done.stdout}\n{done.stderr}"
            raise RuntimeError(f"step {step} failed ({done.returncode}):\n{output}")

    def _sql(self, step: str, url: str) -> None:
        language, body = self.steps[step]
        assert language == "sql", f"step {step} is not an SQL block"
        psql(url, _SHOP_NAME.sub(lambda m: f"{self.name}{m.group(1) or ''}", body))

    def _base_env(self, **extra) -> dict:
        home = os.environ.get("HOME", str(self.scratch))
        return {"PATH": os.environ["PATH"], "HOME": home, **extra}

    def _start_processes(self) -> None:
        env = {**self._base_env(), **environment_file(self.env_path), **self.process_env}
        web = self.http

        def serving(_process) -> bool:
            try:
                return web("GET", "/api/v1/health/", timeout=2).status_code == 200
            except OSError:
                return False

        for step, ready in (
            ("worker", lambda process: "ready." in process.output()),
            ("beat", lambda process: "beat: Starting" in process.output()),
            ("web", serving),
        ):
            argv = command_line(self.steps[step][1]).split()
            process = ReleaseProcess(
                step,
                [relocate(arg, self.scratch) for arg in argv],
                env,
                self.app,
                ready,
                log_dir=self.scratch,
            )
            self.processes.append(process)
            process.start()

    # --- looking at it -------------------------------------------------------------------
    def http(self, method: str, path: str, *, timeout: float = 10, **kwargs):
        """A request as nginx passes it on: public Host, https, the client's address."""
        import requests

        headers = {**PROXY_HEADERS, **kwargs.pop("headers", {})}
        return requests.request(
            method, f"{self.url}{path}", headers=headers, timeout=timeout, **kwargs
        )

    def process(self, name: str) -> Process:
        return next(process for process in self.processes if process.name == name)

    def manage(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        """`manage.py <args>` from the release with the shop's environment (as an operator),
        plus `extra_env` (e.g. DJANGO_SUPERUSER_PASSWORD for `createsuperuser --noinput`)."""
        env = {**self._base_env(), **environment_file(self.env_path), **extra_env}
        return subprocess.run(  # noqa: S603
            [str(self.app / ".venv/bin/python"), "manage.py", *args],
            cwd=self.app,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(f"--- {p.name}\n{p.output(tail)}" for p in self.processes)

    def stop(self) -> None:
        for process in reversed(self.processes):
            try:
                process.stop()
            except Exception as exc:  # stop the others whatever happens to one
                self.note(f"stopping {process.name}: {exc}")
        self.processes = []
        if self._roles_made:
            self.database.drop(self.name)
            for role in (f"{self.name}_app", f"{self.name}_owner"):
                self.database.execute(f'DROP ROLE IF EXISTS "{role}"')
            self._roles_made = False
        shutil.rmtree(self.scratch, ignore_errors=True)

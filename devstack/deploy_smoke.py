"""`scripts/deploy-smoke`: docs/deploy.md followed in a scratch folder, then what an operator
checks after a deploy, then everything stopped and dropped.

    python -m devstack.deploy_smoke [--reuse-venv]

Redis: DEPLOY_SMOKE_REDIS_URL (else REDIS_URL, else redis://127.0.0.1:6379/0); PostgreSQL:
DEPLOY_SMOKE_DATABASE_SERVER (default postgres://postgres@127.0.0.1:5432), where a scratch
database and two scratch roles are made and dropped. Exit 0 when every check passed.
"""

import argparse
import os
import re
import subprocess
import sys
import time

from devstack.database import psql
from devstack.production import ProductionStack

LONG_CACHE = "max-age=315360000"
_ASSET = re.compile(r'<(?:script[^>]*\ssrc|link[^>]*\shref)="(/static/[^"]+)"')


def assets(html: str) -> list[str]:
    """The /static/ scripts and stylesheets a page links."""
    return sorted(set(_ASSET.findall(html)))


def check(stack: ProductionStack) -> list[str]:
    """What must hold on a fresh production deployment; one line per finding passed.
    Raises AssertionError with the reason at the first that does not."""
    passed = []

    def get(path: str, status: int = 200):
        answer = stack.http("GET", path, allow_redirects=False)
        assert answer.status_code == status, f"GET {path}: {answer.status_code}, not {status}"
        return answer

    get("/api/v1/health/")
    ready = get("/api/v1/health/ready/").json()
    assert ready["status"] == "ok", ready
    passed.append(f"health 200, readiness ok ({', '.join(sorted(ready['checks']))})")

    login = get("/admin/login/").text
    base_css = re.compile(r"/admin/css/base\.[0-9a-f]{12}\.css$")
    styles = [path for path in assets(login) if base_css.search(path)]
    assert styles, f"the admin login page links no hashed base.css: {assets(login)}"
    css = get(styles[0])
    assert LONG_CACHE in css.headers.get("Cache-Control", ""), css.headers
    assert "text/css" in css.headers.get("Content-Type", ""), css.headers
    passed.append(f"admin CSS {styles[0]}: 200, {css.headers['Cache-Control']}")

    shop = get("/shop/").text
    scripts = [path for path in assets(shop) if path.endswith(".js")]
    assert scripts, "the shop page links no script under /static/"
    for path in scripts:
        answer = get(path)
        assert "javascript" in answer.headers.get("Content-Type", ""), (path, answer.headers)
    passed.append(f"/shop/: {len(scripts)} scripts, each 200")

    docs = get("/api/v1/docs/").text
    linked = assets(docs)
    assert any("swagger-ui" in path for path in linked), linked
    for path in linked:
        get(path)
    passed.append(f"/api/v1/docs/: {len(linked)} assets, each 200")

    get("/admin/", 302)  # not signed in: to the login page, not a 500
    for name in ("web", "worker", "beat"):
        assert stack.process(name).alive(), f"{name} exited:\n{stack.logs()}"
    passed.append("web, worker and beat running (worker ready, beat started)")

    # The processes connect as the role of the guide's step 4, which owns nothing.
    app_role = f"{stack.name}_app"
    query = (  # our own scratch role's name, not input
        f"SELECT has_table_privilege('{app_role}', 'audit_auditentry', 'INSERT'),"  # noqa: S608
        f" has_table_privilege('{app_role}', 'audit_auditentry', 'UPDATE'),"
        f" has_table_privilege('{app_role}', 'audit_auditentry', 'DELETE'),"
        f" (SELECT count(*) FROM pg_tables WHERE tableowner = '{app_role}')"
    )
    privileges = psql(stack.database.url(stack.name), query)
    assert privileges == "t|f|f|0", f"{app_role} on audit_auditentry: {privileges}"
    passed.append(f"{app_role}: audit trail INSERT only, owns no table")

    healthcheck = subprocess.run(  # noqa: S603 (the container's HEALTHCHECK, run here)
        [str(stack.app / ".venv/bin/python"), "deploy/healthcheck.py", "/api/v1/health/ready/"],
        cwd=stack.app,
        env={"PATH": os.environ["PATH"], **_env(stack)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert healthcheck.returncode == 0, healthcheck.stdout + healthcheck.stderr
    passed.append("deploy/healthcheck.py: ready")
    return passed


def _env(stack: ProductionStack) -> dict:
    from devstack.production import environment_file

    return environment_file(stack.env_path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reuse-venv",
        action="store_true",
        help="use this virtualenv instead of the guide's install step (faster, less faithful)",
    )
    args = parser.parse_args(argv)
    redis_url = os.environ.get("DEPLOY_SMOKE_REDIS_URL") or os.environ.get(
        "REDIS_URL", "redis://127.0.0.1:6379/0"
    )
    server = os.environ.get("DEPLOY_SMOKE_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432")
    started = time.monotonic()
    stack = None
    try:
        stack = ProductionStack(redis_url, server=server, install=not args.reuse_venv)
        for line in check(stack):
            print(f"deploy-smoke: {line}", flush=True)
    except Exception as exc:
        print(f"deploy-smoke: FAILED: {exc}", file=sys.stderr, flush=True)
        if stack is not None:
            print(stack.logs(), file=sys.stderr)
        return 1
    finally:
        if stack is not None:
            stack.stop()
    steps = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in stack.timings.items())
    print(f"deploy-smoke: OK in {time.monotonic() - started:.0f}s ({steps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

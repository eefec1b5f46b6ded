"""`manage.py` in a subprocess, as an operator would run it."""

import subprocess

from devstack.process import PYTHON, ROOT


def manage(
    *args: str, env: dict, timeout: float = 600, check: bool = False
) -> subprocess.CompletedProcess:
    """`python manage.py <args>` with the environment `env`, output captured as text.

    With `check`, a non-zero exit raises RuntimeError with the command's output.
    """
    done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done

"""`.env.example` lists every environment variable the settings read, so an operator who
copies it sees every knob there is (read from the settings' source, not a list kept by hand)."""

import ast
import re

from devstack import ROOT


def _variables_read_by_settings() -> set[str]:
    """The first argument of every `env(...)` / `env.<cast>(...)` call in config/settings/."""
    names = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            is_env = (isinstance(func, ast.Name) and func.id == "env") or (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "env"
            )
            first = node.args[0]
            if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
    return names


def _variables_in_example() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def test_every_variable_the_settings_read_is_in_the_example():
    read = _variables_read_by_settings()
    assert len(read) > 50  # the scan finds the settings' variables at all
    missing = sorted(read - _variables_in_example())
    assert not missing, f"add to .env.example, with what each does: {missing}"

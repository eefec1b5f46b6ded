"""Reading a page's Content-Security-Policy and the inline scripts it would have to allow."""

import re


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def inline_scripts(html: str) -> list[str]:
    """<script> tags without a src attribute (inline code the CSP would have to allow)."""
    return [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]

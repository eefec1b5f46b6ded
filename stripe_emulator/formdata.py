"""Decoding Stripe's form encoding (`a[b][0][c]=x`, `expand[]=y`) into nested dicts.

Every container comes out as a dict with string keys (list indexes stay strings): whether
`x[0]` is a list element or a metadata key called "0" is only known from the endpoint's
parameter definitions, so validation turns index dicts into lists where a list is declared.
"""

import re
from urllib.parse import parse_qsl

from stripe_emulator.errors import invalid

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def _split_key(key: str) -> list[str]:
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    rest = "[" + rest
    parts = _SEGMENT.findall(rest)
    if "".join(f"[{p}]" for p in parts) != rest or not head:
        raise invalid(f"Invalid parameter name: {key}", code="parameter_invalid", param=key)
    return [head, *parts]


def decode(raw: str) -> dict:
    tree: dict = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parts = _split_key(key)
        node = tree
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if part == "":  # `expand[]=x`: the next free index
                part = str(len(node))
            if last:
                if isinstance(node.get(part), dict):
                    raise invalid(f"Invalid parameter: {key}", code="parameter_invalid", param=key)
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise invalid(f"Invalid parameter: {key}", code="parameter_invalid", param=key)
                node = child
    return tree

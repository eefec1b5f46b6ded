"""Stripe events holding NUL characters, kept in a jsonb column that cannot hold them.

JSON allows `\\u0000` in any string; PostgreSQL's jsonb (and text) refuse it, so such an
event could never be stored and Stripe would retry it for days. Refusing it would lose a
real payment whose customer typed a NUL into a name field, and stripping the characters
would change what Stripe signed. So the stored copy has every NUL (in values and keys)
replaced by U+FFFD, and the event records where each one was under the reserved top-level
key `shop_nul_escapes`; `restore()` gives back exactly the event Stripe sent. Handlers
read the escaped copy: an id holding a NUL is never one of ours anyway.
"""

import copy
from typing import Any

KEY = "shop_nul_escapes"
NUL = "\x00"
MARK = "\ufffd"


class CannotEscape(ValueError):
    """Two keys of one object differ only where one holds a NUL and the other U+FFFD."""


def _offsets(text: str) -> list[int]:
    return [i for i, char in enumerate(text) if char == NUL]


def _escape(value: Any, path: list, found: list[dict]) -> Any:
    if isinstance(value, str):
        if NUL not in value:
            return value
        found.append({"path": list(path), "offsets": _offsets(value)})
        return value.replace(NUL, MARK)
    if isinstance(value, list):
        return [_escape(item, [*path, i], found) for i, item in enumerate(value)]
    if isinstance(value, dict):
        escaped = {}
        for key, item in value.items():
            new_key = key
            if NUL in key:
                new_key = key.replace(NUL, MARK)
                found.append({"path": list(path), "key": new_key, "offsets": _offsets(key)})
            if new_key in escaped or (new_key != key and new_key in value):
                raise CannotEscape(f"two keys would both read {new_key!r}")
            escaped[new_key] = _escape(item, [*path, new_key], found)
        return escaped
    return value


def escape(event: dict) -> dict:
    """The event with no NUL left, and where they were; the event itself when it has none."""
    found: list[dict] = []
    escaped = _escape(event, [], found)
    if not found:
        return event
    if KEY in event:
        raise CannotEscape(f"the event already has a {KEY!r} key")
    return {**escaped, KEY: found}


def count(payload: dict) -> int:
    return sum(len(entry["offsets"]) for entry in payload.get(KEY, []))


def _put_back(text: str, offsets: list[int]) -> str:
    chars = list(text)
    for offset in offsets:
        chars[offset] = NUL
    return "".join(chars)


def _at(payload: Any, path: list) -> Any:
    for step in path:
        payload = payload[step]
    return payload


def restore(payload: dict) -> dict:
    """The event exactly as Stripe sent it, from a stored (escaped) payload."""
    entries = payload.get(KEY)
    if not entries:
        return payload
    event = copy.deepcopy({k: v for k, v in payload.items() if k != KEY})
    for entry in entries:  # values first: their paths name keys as they are stored
        if "key" not in entry:
            *parent, last = entry["path"]
            holder = _at(event, parent)
            holder[last] = _put_back(holder[last], entry["offsets"])
    # Then keys, deepest first, so that no path still to follow has been renamed.
    for entry in sorted(
        (e for e in entries if "key" in e), key=lambda e: len(e["path"]), reverse=True
    ):
        holder = _at(event, entry["path"])
        stored = entry["key"]
        original = _put_back(stored, entry["offsets"])
        # Rebuilt in place so that the keys keep their order.
        items = [(original if k == stored else k, v) for k, v in holder.items()]
        holder.clear()
        holder.update(items)
    return event

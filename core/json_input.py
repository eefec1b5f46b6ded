"""Parsing JSON that a client (or anyone on the Internet) sent: one function for every door.

Python's `json` accepts more than a payments back end can hold, and fails in ways that are
not `ValueError`:
- nesting: the C scanner recurses once per level, so 30 KB of `[` raises RecursionError
  (a 500 with a traceback); far less nesting is still no request anybody means to send.
  Bodies nested deeper than MAX_DEPTH (64) levels are refused.
- numbers: `1e400` becomes `inf`, `NaN`/`Infinity` are accepted, and integers of any size
  are built (up to Python's 4300-digit limit); none of that fits a database column or an
  amount. Numbers must lie within the range of a signed 64-bit integer and be finite.
- text: JSON may escape a NUL (`\\u0000`) or half a surrogate pair (`\\ud800`); PostgreSQL
  refuses both (text and jsonb), and psycopg cannot even encode a lone surrogate. Bodies
  must be UTF-8 (RFC 8259); `json.loads(bytes)` would also guess UTF-16 or UTF-32.

`loads` raises `MalformedJSON` (a ValueError) for all of it. The webhook, which must store
what Stripe signed, asks to keep NUL characters (`allow_nul=True`) and escapes them itself
(payments.webhooks.nul_characters).
"""

import json
import math
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64
_LIMIT = 2**63

# A JSON string, escapes included (unrolled so that a long string is one linear scan).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# Escapes that may decode to a NUL or to a surrogate. A match only means "look closer".
_NUL_ESCAPE = re.compile(r"\\u0000")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class MalformedJSON(ValueError):
    """The body is not JSON this service accepts; the message says why, for the client.

    `kind`: "encoding" (not UTF-8), "syntax" (not JSON), "depth", "number" or "text".
    """

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


def decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8")  # strict: lossless, so nothing is guessed
    except UnicodeDecodeError as exc:
        raise MalformedJSON("The body is not valid UTF-8.", "encoding") from exc


def depth(text: str) -> int:
    """How deeply arrays and objects nest in `text` (brackets inside strings ignored), or
    a bound of it no greater than MAX_DEPTH when it cannot be deeper than that."""
    # Every opening bracket, in strings or not, bounds the depth: few of them (a webhook
    # event has about 30) need no scan of the strings at all.
    opening = text.count("[") + text.count("{")
    if opening <= MAX_DEPTH:
        return opening
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    opening = brackets.count("[") + brackets.count("{")
    if opening <= MAX_DEPTH:  # too few outside strings to nest too deeply
        return opening
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _integer(text: str) -> int:
    if len(text) > 20:
        raise MalformedJSON("The body holds a number that is too large.", "number")
    value = int(text)
    if not -_LIMIT <= value < _LIMIT:
        raise MalformedJSON("The body holds a number that is too large.", "number")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or not -_LIMIT <= value < _LIMIT:
        raise MalformedJSON("The body holds a number that is too large.", "number")
    return value


def _constant(name: str):
    raise MalformedJSON(f"{name} is not a JSON number.", "number")


def _find_bad_text(value: Any, *, allow_nul: bool) -> str | None:
    """The first reason a string (or key) in `value` cannot be stored, else None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if not allow_nul and "\x00" in item:
                return "The body holds a NUL character (\\u0000)."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "The body holds an unpaired surrogate (e.g. \\ud800)."
    return None


def loads(data: bytes | str, *, allow_nul: bool = False) -> Any:
    """Parse a client's JSON, or raise MalformedJSON saying what is wrong with it."""
    text = decode(data)
    too_deep = MalformedJSON(f"The body is nested deeper than {MAX_DEPTH} levels.", "depth")
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except MalformedJSON:
        raise
    except RecursionError:  # the C scanner's own limit: far deeper than MAX_DEPTH
        raise too_deep from None
    except ValueError as exc:
        raise MalformedJSON("The body is not valid JSON.", "syntax") from exc
    # Measured only once the text is known to be JSON: on valid JSON the string pattern
    # matches at every quote it tries, so the scan is linear (on arbitrary text a run of
    # escaped quotes with no end would make it quadratic).
    if depth(text) > MAX_DEPTH:
        raise too_deep
    # The scan of the whole value runs only when the text holds an escape that needs it.
    if (not allow_nul and _NUL_ESCAPE.search(text)) or _SURROGATE_ESCAPE.search(text):
        reason = _find_bad_text(value, allow_nul=allow_nul)
        if reason:
            raise MalformedJSON(reason, "text")
    return value

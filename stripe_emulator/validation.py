"""Checking request parameters against the `stripe` package's own definitions.

Each endpoint names the TypedDict the SDK types its parameters with (for example
`stripe.params.PaymentIntentCreateParams`). The decoded form is walked against it: an
unknown key, a value of the wrong type or outside a Literal, or a missing required key is
refused the way Stripe refuses it. Values come back converted (ints, bools, lists), so the
handlers work on typed data. Reusing the SDK's definitions keeps the emulator from
accepting what Stripe would refuse when the SDK is upgraded.
"""

import collections.abc
import functools
import re
import types
import typing

from stripe import RequestOptions

from stripe_emulator.errors import invalid

# Names the SDK's TypedDicts refer to only under TYPE_CHECKING.
_TYPE_CHECKING_NAMES = {"StripeContext": object, "Mapping": collections.abc.Mapping}
# Request options (api_key, idempotency_key, ...) travel as headers, never as parameters.
_REQUEST_OPTION_KEYS = frozenset(RequestOptions.__annotations__)
_INTEGER = re.compile(r"-?\d+\Z")
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)\Z")


class _Mismatch(Exception):
    def __init__(self, path: str, message: str, code: str = "parameter_invalid", weight=1):
        super().__init__(message)
        self.path = path
        self.message = message
        self.code = code
        # How telling the failure is when a Union has several members: a shape mismatch
        # ("not a hash") says less than "not an integer".
        self.weight = weight


class _Unknown(Exception):
    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


class _Missing(Exception):
    def __init__(self, path: str):
        super().__init__(path)
        self.path = path


@functools.cache
def fields_of(typed_dict: type) -> tuple[dict, frozenset]:
    hints = typing.get_type_hints(typed_dict, localns=_TYPE_CHECKING_NAMES)
    own = {name: hint for name, hint in hints.items() if name not in _REQUEST_OPTION_KEYS}
    required = frozenset(typed_dict.__required_keys__) - _REQUEST_OPTION_KEYS
    return own, required


def _is_typed_dict(hint) -> bool:
    return isinstance(hint, type) and hasattr(hint, "__required_keys__")


def _is_untyped_object(hint) -> bool:
    origin = typing.get_origin(hint) or hint
    return getattr(origin, "__name__", "") == "UntypedStripeObject"


def _alternatives(hint) -> list:
    """The members of a Union, without the SDK's forward-compatible `str` escape hatch.

    The SDK types enums as `Literal[...] | str` so that new values do not break old
    clients; Stripe itself refuses a value outside the enum, so the `str` is dropped when
    the union has a Literal with real values (`Literal[''] | str` keeps it: any string,
    or empty to unset).
    """
    origin = typing.get_origin(hint)
    if origin not in (typing.Union, types.UnionType):
        return [hint]
    members = [m for m in typing.get_args(hint) if m is not type(None)]
    has_enum = any(
        typing.get_origin(m) is typing.Literal and any(v != "" for v in typing.get_args(m))
        for m in members
    )
    if has_enum:
        members = [m for m in members if m is not str]
    if any(typing.get_origin(m) is dict for m in members):
        # `Dict[str, str] | UntypedStripeObject[str]`: the second is the SDK's own object
        # type for the same hash; checking the Dict is what Stripe does.
        members = [m for m in members if not _is_untyped_object(m)]
    return members


def _check(value, hint, path: str):
    alternatives = _alternatives(hint)
    if len(alternatives) > 1:
        failures = []
        for member in alternatives:
            try:
                return _check(value, member, path)
            except _Mismatch as exc:
                failures.append(exc)
        raise max(failures, key=lambda f: f.weight)
    hint = alternatives[0]
    origin = typing.get_origin(hint)

    if hint is typing.Any or (_is_untyped_object(hint) and isinstance(value, dict)):
        return value
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        if isinstance(value, str):
            if value in allowed:
                return value
            if value == "" and "" not in allowed:
                raise _Mismatch(path, f"Invalid empty string for {path}", "parameter_invalid_empty")
        values = [repr(a) for a in allowed if a != ""]
        shown = ", ".join(values[:8]) + (f", ... ({len(values)} values)" if len(values) > 8 else "")
        if not shown:  # `Literal['']`: the "unset" member of a union
            raise _Mismatch(path, f"Invalid value for {path}", weight=0)
        raise _Mismatch(path, f"Invalid {path}: must be one of {shown}")
    if _is_typed_dict(hint):
        if not isinstance(value, dict):
            raise _Mismatch(path, f"Invalid object for {path}: expected a hash", weight=0)
        return check_object(value, hint, path)
    if origin is list:  # typing.List[...] too
        if not isinstance(value, dict) or not all(k.isdigit() for k in value):
            raise _Mismatch(path, f"Invalid array for {path}", weight=0)
        (item_hint,) = typing.get_args(hint) or (typing.Any,)
        ordered = sorted(value.items(), key=lambda kv: int(kv[0]))
        return [_check(item, item_hint, f"{path}[{i}]") for i, (_, item) in enumerate(ordered)]
    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, dict):
            raise _Mismatch(path, f"Invalid hash for {path}", weight=0)
        _, value_hint = typing.get_args(hint) or (str, typing.Any)
        return {k: _check(v, value_hint, f"{path}[{k}]") for k, v in value.items()}
    if isinstance(value, dict):
        raise _Mismatch(path, f"Invalid {path}: expected a single value, not a hash", weight=0)
    if hint is bool:
        if value in ("true", "false"):
            return value == "true"
        raise _Mismatch(path, f"Invalid boolean: {value}")
    if hint is int:
        if _INTEGER.match(value):
            return int(value)
        raise _Mismatch(path, f"Invalid integer: {value}", "parameter_invalid_integer")
    if hint is float:
        if _NUMBER.match(value):
            return float(value)
        raise _Mismatch(path, f"Invalid decimal: {value}")
    if hint is str or hint is object:
        return value
    return value  # a type this emulator does not know how to check: accept it as Stripe's


def check_object(value: dict, typed_dict: type, prefix: str = ""):
    fields, required = fields_of(typed_dict)
    result = {}
    for key, item in value.items():
        path = f"{prefix}[{key}]" if prefix else key
        if key not in fields:
            raise _Unknown(path)
        result[key] = _check(item, fields[key], path)
    for key in sorted(required - set(value)):
        path = f"{prefix}[{key}]" if prefix else key
        raise _Missing(path)
    return result


def validate(params: dict, typed_dict: type | None) -> dict:
    """Return the parameters with typed values, or raise a Stripe-shaped 400."""
    if typed_dict is None:
        if params:
            first = next(iter(params))
            raise invalid(
                f"Received unknown parameter: {first}", code="parameter_unknown", param=first
            )
        return {}
    try:
        checked = check_object(params, typed_dict)
        _check_metadata(checked, "")
        return checked
    except _Unknown as exc:
        raise invalid(
            f"Received unknown parameter: {exc.path}", code="parameter_unknown", param=exc.path
        ) from None
    except _Missing as exc:
        raise invalid(
            f"Missing required param: {exc.path}.", code="parameter_missing", param=exc.path
        ) from None
    except _Mismatch as exc:
        raise invalid(exc.message, code=exc.code, param=exc.path) from None


# Stripe's limits on metadata: 50 keys, keys up to 40 characters, values up to 500.
METADATA_MAX_KEYS, METADATA_MAX_KEY_LENGTH, METADATA_MAX_VALUE_LENGTH = 50, 40, 500


def _check_metadata(value, path: str) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_metadata(item, f"{path}[{index}]")
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        item_path = f"{path}[{key}]" if path else key
        if key == "metadata" and isinstance(item, dict):
            if len(item) > METADATA_MAX_KEYS:
                raise _Mismatch(item_path, f"Invalid {item_path}: at most 50 keys.")
            for meta_key, meta_value in item.items():
                meta_path = f"{item_path}[{meta_key}]"
                if len(meta_key) > METADATA_MAX_KEY_LENGTH:
                    raise _Mismatch(meta_path, "Metadata keys can be at most 40 characters.")
                if len(meta_value) > METADATA_MAX_VALUE_LENGTH:
                    raise _Mismatch(meta_path, "Metadata values can be at most 500 characters.")
        else:
            _check_metadata(item, item_path)

"""Does a JSON body look the way Stripe's API shows that object at the SDK's pinned version?

`differences(body)` walks a body (a resource, a list, an event) against the typed resource
classes of the installed stripe-python package (`stripe.PaymentIntent`,
`stripe.checkout.Session`, their nested `StripeObject` classes), which are generated from
Stripe's OpenAPI spec for the version the package pins (`stripe.api_version`). It returns
one sentence per difference, each naming the path (`payment_intent.last_payment_error.
payment_method.card.brand`).

## What the annotations say, and the rules drawn from them

The class for a body is found from its `object` field through the SDK's own
`OBJECT_CLASSES`; annotations are read with `typing.get_type_hints`, resolving the names
each module imports only for type checkers.

- **A field the class declares without `Optional`** must be present and not null
  ("missing", "null where the SDK does not allow it").
  The resource classes never use `NotRequired` (only the request parameter TypedDicts
  under `stripe.params` do), so `Optional` is the only mark of a field that may be missing.
- **A field the class does not declare** is reported ("not a field of ...").
- **`Literal[...]`** lists the values of an enum. The SDK writes most enums as
  `Union[Literal[...], str]` so that an older package survives values Stripe adds later;
  at the pinned version the `Literal` is the whole enum, so any other string is reported.
- **Primitives**: `str`, `int` (a bool is not an int), `bool`, `float` (an int is a
  float, as in JSON), `Decimal` (a decimal string, `unit_amount_decimal`); `List[X]` is a
  JSON array of X; `UntypedStripeObject[X]` (`metadata`) a JSON object of X values;
  `Dict[str, X]` likewise.
- **`ExpandableField[X]`** is `Union[str, X]`: an id, or the expanded object, checked
  as X. A `Union` of several classes (a balance transaction's `source`) is told apart by
  the `object` field of the value.
- **`ListObject[X]`** is `{"object": "list", "data": [X...], "has_more", "url"}`; each
  item is checked as X.
- **Deleted objects** (`{"id", "object", "deleted": true}`, the answer to a delete) are
  checked only for the fields they carry.
- **Events**: `data.object` (typed `Any` by the SDK) is checked as the resource its
  `object` names; `data.previous_attributes` holds old values of some fields, so only
  those fields' types are checked, each as nullable.
- **Errors**: a body `{"error": {...}}` is checked against `stripe.ErrorObject`'s fields
  (type and code as strings), with the `payment_intent` and `payment_method` it carries
  checked as resources.

## Limits

- The SDK writes `Optional[X]` both for "nullable" and for "may be left out": it cannot
  say whether Stripe sends an optional field as null or leaves it out. Stripe's OpenAPI
  spec can (its `required` list), so for the object types the emulator makes,
  stripe_required.py lists the fields Stripe always sends: one of those absent is
  reported, and so is any other field present as null (Stripe leaves out what does not
  apply, such as a refund's `failure_reason`). For the nested objects (without an
  `object` field) it lists what Stripe's examples show, and only an absent field is
  reported there. Objects of other types get the SDK's rules only.
- Closed versus open enums are not told apart (see above), and no rule ties fields to
  each other (a `succeeded` charge with `paid: false` passes).
- Objects the SDK does not type (`UntypedStripeObject[Any]`) are checked only as JSON
  objects.
"""

import ast
import decimal
import inspect
import sys
import types
import typing
from functools import cache

import stripe
from stripe._list_object import ListObject
from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject, UntypedStripeObject

from tests.stripe_emulator.stripe_required import NESTED, REQUIRED


def differences(body, object_type: str | None = None) -> list[str]:
    """Every way `body` differs from what the SDK declares for its object type."""
    out: list[str] = []
    if isinstance(body, dict) and set(body) == {"error"}:
        _check_error(body["error"], "error", out)
        return out
    object_type = object_type or (body.get("object") if isinstance(body, dict) else None)
    if object_type == "list":
        _check_list(body, typing.Any, "list", out)
        return out
    cls = class_for(object_type)
    if cls is None:
        return [f"{object_type}: no SDK class for this object type"]
    _check_object(body, cls, object_type, out)
    return out


@cache
def class_for(object_type: str | None):
    if object_type not in OBJECT_CLASSES:
        return None
    module_name, class_name = OBJECT_CLASSES[object_type]
    __import__(module_name)
    return getattr(sys.modules[module_name], class_name)


@cache
def _namespace(module_name: str) -> dict:
    """The module's globals plus what it imports under `if TYPE_CHECKING:`."""
    module = sys.modules[module_name]
    namespace = {
        "StripeObject": StripeObject,
        "UntypedStripeObject": UntypedStripeObject,
        "ListObject": ListObject,
        **vars(module),
    }
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and not stmt.module.startswith("stripe.params"):
                    exec(compile(ast.Module([stmt], []), module_name, "exec"), namespace)
    return namespace


@cache
def fields(cls) -> dict:
    """The fields `cls` declares (not ClassVars, not private attributes) and their types."""
    hints = typing.get_type_hints(cls, globalns=_namespace(cls.__module__))
    return {
        name: hint
        for name, hint in hints.items()
        if not name.startswith("_") and typing.get_origin(hint) is not typing.ClassVar
    }


def _object_name(cls) -> str | None:
    hint = fields(cls).get("object")
    return typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Literal else None


def _check_object(value, cls, path: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{path}: expected an object ({cls.__qualname__}), got {value!r:.60}")
        return
    declared = fields(cls)
    kind = value.get("object")
    required = REQUIRED.get(kind) if isinstance(kind, str) else None
    nested = NESTED.get(f"{cls.__module__}.{cls.__qualname__}", frozenset())
    deleted = value.get("deleted") is True  # Stripe answers a delete with id, object, deleted
    for name, hint in declared.items():
        if name not in value and deleted:
            continue
        if name not in value:
            if not _nullable(hint):
                out.append(f"{path}.{name}: missing (the SDK declares it, not Optional)")
            elif (required is not None and name in required) or name in nested:
                out.append(f"{path}.{name}: missing (Stripe always sends it, null when unset)")
        elif value[name] is None and required is not None and name not in required:
            out.append(f"{path}.{name}: null, but Stripe leaves it out when it does not apply")
        else:
            _check(value[name], hint, f"{path}.{name}", out)
    for name in value:
        if name not in declared:
            out.append(f"{path}.{name}: not a field of {cls.__module__}.{cls.__qualname__}")
    if cls is stripe.Event and isinstance(value.get("data"), dict):
        _check_event_data(value["data"], f"{path}.data", out)


def _check_event_data(data: dict, path: str, out: list[str]) -> None:
    obj = data.get("object")
    cls = class_for(obj.get("object")) if isinstance(obj, dict) else None
    if cls is None:
        out.append(f"{path}.object: not a Stripe object")
    else:
        _check_object(obj, cls, f"{path}.object", out)
        declared = fields(cls)
        for name, old in (data.get("previous_attributes") or {}).items():
            if name not in declared:
                out.append(f"{path}.previous_attributes.{name}: not a field of {cls.__name__}")
            elif old is not None:
                _check(old, declared[name], f"{path}.previous_attributes.{name}", out)


def _check_error(error, path: str, out: list[str]) -> None:
    declared = fields(stripe.ErrorObject)
    if not isinstance(error, dict):
        out.append(f"{path}: expected an object")
        return
    for name, value in error.items():
        if name not in declared:
            out.append(f"{path}.{name}: not a field of an error")
        elif value is not None:
            _check(value, declared[name], f"{path}.{name}", out)


def _nullable(hint) -> bool:
    return hint is typing.Any or (
        typing.get_origin(hint) in (typing.Union, types.UnionType)
        and type(None) in typing.get_args(hint)
    )


def _is_stripe_class(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, StripeObject)


def _check(value, hint, path: str, out: list[str]) -> None:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is typing.Any:
        return
    if value is None:
        if not _nullable(hint):
            out.append(f"{path}: null where the SDK does not allow it")
        return
    if origin in (typing.Union, types.UnionType):
        _check_union(value, [a for a in args if a is not type(None)], path, out)
    elif origin is typing.Literal:
        if value not in args:
            out.append(f"{path}: {value!r} is not one of {list(args)}")
    elif hint is decimal.Decimal:  # a decimal string on the wire (`unit_amount_decimal`)
        if not isinstance(value, str) or not _is_decimal(value):
            out.append(f"{path}: expected a decimal string, got {value!r:.60}")
    elif hint is str or hint is int or hint is bool or hint is float:
        if not _primitive_ok(value, hint):
            out.append(f"{path}: expected {hint.__name__}, got {value!r:.60}")
    elif origin in (list, list):
        if not isinstance(value, list):
            out.append(f"{path}: expected a list, got {value!r:.60}")
        else:
            for index, item in enumerate(value):
                _check(item, args[0], f"{path}[{index}]", out)
    elif origin in (dict, dict) or origin is UntypedStripeObject:
        if not isinstance(value, dict):
            out.append(f"{path}: expected an object, got {value!r:.60}")
        else:
            for key, item in value.items():
                _check(item, args[-1] if args else typing.Any, f"{path}.{key}", out)
    elif origin is ListObject or hint is ListObject:
        _check_list(value, args[0] if args else typing.Any, path, out)
    elif _is_stripe_class(hint):
        _check_object(value, hint, path, out)
    else:
        out.append(f"{path}: the checker does not know the type {hint!r}")


def _is_decimal(text: str) -> bool:
    try:
        decimal.Decimal(text)
    except decimal.InvalidOperation:
        return False
    return True


def _primitive_ok(value, tp) -> bool:
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _check_union(value, options: list, path: str, out: list[str]) -> None:
    literals = [v for o in options if typing.get_origin(o) is typing.Literal for v in o.__args__]
    classes = [o for o in options if _is_stripe_class(o) or typing.get_origin(o) is ListObject]
    if isinstance(value, str) and str in options:
        if literals and value not in literals and not classes:
            out.append(f"{path}: {value!r} is not one of {literals}")
        return
    if isinstance(value, dict) and classes:
        if len(classes) > 1:
            named = [
                c for c in classes if _is_stripe_class(c) and _object_name(c) == value.get("object")
            ]
            if not named:
                out.append(f"{path}: object {value.get('object')!r} is none of the types allowed")
                return
            classes = named
        _check(value, classes[0], path, out)
        return
    for option in options:
        if typing.get_origin(option) is typing.Literal:
            continue
        attempt: list[str] = []
        _check(value, option, path, attempt)
        if not attempt:
            return
    if literals and value not in literals:
        out.append(f"{path}: {value!r} is not one of {literals}")
    elif not (literals and value in literals):
        out.append(f"{path}: {value!r:.60} matches none of {options}")


def _check_list(value, item_type, path: str, out: list[str]) -> None:
    if not isinstance(value, dict) or value.get("object") != "list":
        out.append(f"{path}: expected a list object, got {value!r:.60}")
        return
    for name in value:
        if name not in ("object", "data", "has_more", "url"):
            out.append(f"{path}.{name}: not a field of a list")
    for name, kind in (("data", list), ("has_more", bool), ("url", str)):
        if not isinstance(value.get(name), kind):
            out.append(f"{path}.{name}: missing or not a {kind.__name__}")
    for index, item in enumerate(value.get("data") or []):
        if item_type is typing.Any and isinstance(item, dict):
            cls = class_for(item.get("object"))
            if cls is None:
                out.append(f"{path}.data[{index}]: no SDK class for {item.get('object')!r}")
            else:
                _check_object(item, cls, f"{path}.data[{index}]", out)
        else:
            _check(item, item_type, f"{path}.data[{index}]", out)

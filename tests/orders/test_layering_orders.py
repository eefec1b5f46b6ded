"""`orders` owns everything that happens to an order: payments asks its services. And rows
are locked only through the lock modules, which state the lock order.

Scans the payments package's source: no call of an Order state-machine transition, no
write of an order's status. The transitions' names come from the model, so a new one is
covered without touching this test.
"""

import ast
import inspect
from pathlib import Path

import pytest

from orders.models import Order
from payments.models import Dispute, PaymentAttempt, Refund

PAYMENTS = Path(__file__).resolve().parents[2] / "payments"


def _transitions(model) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(model, callable)
        if hasattr(member, "_django_fsm")
    }


ORDER_TRANSITIONS = _transitions(Order)
# Names an order shares with a payments row (attempt.cancel()): refused on an order only.
SHARED = ORDER_TRANSITIONS & (
    _transitions(PaymentAttempt) | _transitions(Refund) | _transitions(Dispute)
)
ORDER_ONLY = ORDER_TRANSITIONS - SHARED


def _names(node) -> list[str]:
    """The identifiers along an expression: `attempt.order` -> ["attempt", "order"]."""
    names = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names[::-1]
        else:
            return names[::-1]


def _is_order(node) -> bool:
    names = _names(node)
    return bool(names) and "order" in names[-1].lower()


def _imported(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return names


def _calls_a_transition(func: ast.Attribute, imported: set[str]) -> bool:
    names = _names(func.value)
    if not names or names[0] in imported or "v1" in names:
        return False  # a module's function (orders' services) or Stripe's API (c.v1...)
    return func.attr in ORDER_ONLY or (func.attr in SHARED and _is_order(func.value))


def _violations(tree: ast.AST) -> list[tuple[int, str]]:
    imported = _imported(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                name = func.attr
                if _calls_a_transition(func, imported):
                    found.append((node.lineno, f"calls Order.{name}()"))
                if (
                    name in ("update", "bulk_update")
                    and _names(func.value)[:1] == ["Order"]
                    and any(k.arg == "status" for k in node.keywords)
                ):
                    found.append((node.lineno, "updates Order.status in bulk"))
            if isinstance(func, ast.Name) and func.id in ("getattr", "setattr") and node.args:
                key = node.args[1] if len(node.args) > 1 else None
                if (
                    isinstance(key, ast.Constant)
                    and _is_order(node.args[0])
                    and (key.value in ORDER_TRANSITIONS or key.value == "status")
                ):
                    found.append((node.lineno, f"{func.id}(order, {key.value!r})"))
            # A transition named by a string handed to a helper (`_move(x, "mark_paid")`).
            strings = node.args if not isinstance(func, ast.Name) or func.id != "getattr" else []
            for arg in strings:
                if isinstance(arg, ast.Constant) and arg.value in ORDER_ONLY:
                    found.append((node.lineno, f"names Order.{arg.value} in a call"))
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "status"
                and _is_order(target.value)
            ):
                found.append((node.lineno, "assigns an order's status"))
    return sorted(found)


def test_the_order_transitions_are_known():
    # The scan is only as good as this list: it must see the model's transitions.
    assert {"mark_paid", "apply_refunded_amount", "open_dispute", "flag_for_review"} <= (ORDER_ONLY)
    assert "cancel" in SHARED


def test_the_scan_catches_what_it_is_for():
    source = (
        "from orders import services as order_services\n"
        "order.mark_paid()\n"
        "attempt.order.cancel()\n"
        "locked_order.status = 'paid'\n"
        "Order.objects.filter(pk=1).update(status='paid')\n"
        "getattr(order, 'expire')()\n"
        "_move(order, 'win_dispute')\n"
        "locked.flag_for_review()\n"
        "attempt.cancel()\n"
        "event.status = 'processed'\n"
        "order_services.mark_fulfilled(order_id=1)\n"
        "c.v1.checkout.sessions.expire('cs_1')\n"
    )
    assert [line for line, _ in _violations(ast.parse(source))] == [2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize(
    "path", sorted(PAYMENTS.rglob("*.py")), ids=lambda p: str(p.relative_to(PAYMENTS))
)
def test_payments_never_moves_an_order_itself(path):
    found = _violations(ast.parse(path.read_text(), filename=str(path)))
    assert not found, "\n".join(
        f"payments/{path.relative_to(PAYMENTS)}:{line}: {what} (use an orders service)"
        for line, what in found
    )


# --- the lock order lives in the lock modules -------------------------------------------
ROOT = PAYMENTS.parent
# The lock modules (orders.locks, payments.locks), and catalog's stock moves, which lock
# their own products (always last, in id order).
MAY_LOCK = {"catalog/services.py"}
NOT_PROJECT_CODE = {".venv", "var", "tests", "stripe_emulator", "node_modules"}


def _project_sources():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in NOT_PROJECT_CODE or parts[0].startswith(".") or "migrations" in parts:
            continue
        yield path


def test_rows_are_locked_only_through_the_lock_modules():
    hand_made = []
    for path in _project_sources():
        relative = path.relative_to(ROOT).as_posix()
        if path.name == "locks.py" or relative in MAY_LOCK:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Attribute) and node.attr == "select_for_update":
                hand_made.append(f"{relative}:{node.lineno}")
    assert not hand_made, f"lock through orders.locks / payments.locks instead: {hand_made}"

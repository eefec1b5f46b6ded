"""The test payment methods as text, made from the one table (table.py): the Markdown in
docs/emulator.md between its markers and the list `python -m stripe_emulator --help` ends
with. `python -m stripe_emulator.cards.reference docs/emulator.md` rewrites the docs part;
a test checks that it is current.
"""

import sys
from pathlib import Path

from stripe_emulator.cards.model import Outcome, TestPaymentMethod
from stripe_emulator.cards.table import SECTIONS

START = "<!-- test payment methods: made by stripe_emulator/cards/reference.py -->"
END = "<!-- end of test payment methods -->"


def outcome(pm: TestPaymentMethod) -> str:
    """What happens when a PaymentIntent is confirmed with it, in Markdown."""
    decline = pm.decline
    refused = ""
    if decline:
        refused = f"402 `{decline.code}`"
        if decline.decline_code:
            refused += f", `decline_code` `{decline.decline_code}`"
        refused += f': "{decline.message}"' + (" (blocked by Radar)" if decline.blocked else "")
    if pm.outcome == Outcome.DECLINE and decline.code == "incorrect_number":
        return f"{refused}, when the card is entered"
    if pm.outcome == Outcome.DECLINE:
        return refused
    if pm.outcome == Outcome.AUTHENTICATE:
        then = refused if decline else "succeeds"
        return f"`requires_action` (3-D Secure); authenticated, it {then}"
    if pm.outcome == Outcome.DISPUTE:
        status = "warning_needs_response" if pm.inquiry else "needs_response"
        kind = "an inquiry" if pm.inquiry else "a dispute"
        return f"succeeds, then {kind} opens: `{pm.dispute_reason}`, `{status}`"
    if pm.outcome == Outcome.REFUND and pm.refund == "pending":
        return "succeeds; a refund is `pending`, then `succeeded` (`charge.refund.updated`)"
    if pm.outcome == Outcome.REFUND:
        return (
            "succeeds; a refund is `succeeded`, then `failed` with `expired_or_canceled_card` "
            "(`refund.failed`, `charge.refund.updated`)"
        )
    later = f" after {pm.delay_seconds // 60} minutes" if pm.delay_seconds else ""
    if pm.outcome == Outcome.ASYNC_SUCCESS and pm.dispute_reason:
        return f"`processing`, then `succeeded`, then a dispute opens: `{pm.dispute_reason}`"
    if pm.outcome == Outcome.ASYNC_SUCCESS:
        return f"`processing`, then `succeeded`{later}"
    if pm.outcome == Outcome.ASYNC_FAILURE:
        return f"`processing`, then `requires_payment_method`{later}: `{pm.failure_code}`"
    if pm.outcome == Outcome.ASYNC_PENDING:
        return "`processing` until settled through the control API"
    if pm.risk_level != "normal":
        return f"succeeds, `outcome.risk_level` `{pm.risk_level}`"
    return f"succeeds: {pm.brand}, {pm.funding}, {pm.country}"


def _code(values) -> str:
    return ", ".join(f"`{v}`" for v in values) or "-"


def markdown() -> str:
    lines = [START, ""]
    for title, rows in SECTIONS:
        lines += [f"**{title}**", ""]
        lines += ["| payment method | token | number | outcome |", "|---|---|---|---|"]
        for pm in rows:
            lines.append(
                f"| {_code(pm.ids)} | {_code(pm.tokens)} | {_code([pm.number])} | {outcome(pm)} |"
            )
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def help_text() -> str:
    """The plain-text list for `--help` (argparse's epilog)."""
    lines = ["test payment methods (docs/emulator.md has the tokens too):"]
    for title, rows in SECTIONS:
        lines.append(f"  {title}:")
        for pm in rows:
            name = pm.id or "(number only)"
            lines.append(f"    {name:<52} {pm.number or '':<22} {outcome(pm).replace('`', '')}")
            also = ", ".join([*pm.aliases, *pm.tokens])
            if also:
                lines.append(f"      also: {also}")
    return "\n".join(lines)


def rewrite(path: Path) -> bool:
    """Put the current table between the markers of `path`; True if that changed it."""
    text = path.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    updated = head + markdown() + tail
    if updated != text:
        path.write_text(updated)
    return updated != text


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {'rewritten' if rewrite(Path(name)) else 'current'}")

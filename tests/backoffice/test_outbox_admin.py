"""The e-mail outbox screen: staff see what failed and why, and resend it."""

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEntry
from notifications import services as outbox
from notifications.models import OutboxEmail

pytestmark = pytest.mark.django_db

OUTBOX = "/admin/notifications/outboxemail/"


def stored(subject, **fields):
    return OutboxEmail.objects.create(
        kind=fields.pop("kind", "receipt"),
        subject=subject,
        body=fields.pop("body", "Thank you."),
        recipients=fields.pop("recipients", ["shopper@example.com"]),
        **fields,
    )


@pytest.fixture
def emails():
    return {
        "sent": stored("Sent one", sent_at=timezone.now(), attempts=1),
        "failed": stored(
            "Failed one",
            attempts=outbox.MAX_SEND_ATTEMPTS,
            last_error="SMTPRecipientsRefused: mailbox full",
            order_id=42,
        ),
        "retrying": stored("Retrying one", attempts=2, last_error="ConnectionRefusedError"),
        "queued": stored("Queued one", recipients=["other@example.com"]),
    }


def test_the_list_shows_status_recipient_attempts_and_error(staff_client, emails):
    client = staff_client("view_outboxemail")
    text = client.get(OUTBOX).content.decode()
    for label in ("Sent", "Failed, retries used up", "Failed, retrying", "Queued (not tried yet)"):
        assert label in text
    assert "SMTPRecipientsRefused: mailbox full" in text and "shopper@example.com" in text

    def subjects(query):
        page = client.get(f"{OUTBOX}?{query}").content.decode()
        return {e.subject for e in emails.values() if e.subject in page}

    assert subjects("status=given_up") == {"Failed one"}
    assert subjects("status=retrying") == {"Retrying one"}
    assert subjects("status=sent") == {"Sent one"}
    assert subjects("q=other@example.com") == {"Queued one"}
    assert subjects("q=42") == {"Failed one"}


# Key-shaped, assembled here so no secret-looking literal sits in the source.
LIVE_KEY = "sk_" + "live_" + "EXAMPLEONLY0123456789"


def test_the_detail_page_is_read_only_and_shows_no_secrets(staff_client):
    row = stored(
        "Your link",
        body=f"Pay here: https://shop.invalid/pay?token=tok_abcdefghijklmnop (key {LIVE_KEY})",
    )
    client = staff_client("view_outboxemail")
    page = client.get(f"{OUTBOX}{row.pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200 and "Your link" in text
    assert LIVE_KEY not in text and "[redacted]" in text
    assert 'name="subject"' not in text  # nothing to edit


def test_resend_sends_the_failed_once_and_skips_the_sent(
    staff_client, emails, django_capture_on_commit_callbacks
):
    client = staff_client("view_outboxemail", "resend_outboxemail")
    chosen = [emails["failed"].pk, emails["sent"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            OUTBOX, {"action": "resend_failed", "_selected_action": chosen}, follow=True
        )
    text = response.content.decode()
    assert "1 e-mail(s) queued to be sent again. 1 skipped: already sent" in text
    assert [m.subject for m in mail.outbox] == ["Failed one"]
    failed = OutboxEmail.objects.get(pk=emails["failed"].pk)
    assert failed.sent_at is not None and failed.attempts == 1
    entry = AuditEntry.objects.get(action="email.resent")
    assert (entry.actor, entry.order_id, entry.object_id) == (client.user, 42, str(failed.pk))
    assert entry.details["attempts"] == outbox.MAX_SEND_ATTEMPTS

    # asked again: it was sent, so nothing goes out a second time
    with django_capture_on_commit_callbacks(execute=True):
        client.post(OUTBOX, {"action": "resend_failed", "_selected_action": chosen})
    assert len(mail.outbox) == 1


def test_a_sent_email_goes_again_only_when_staff_ask_for_it(
    staff_client, emails, django_capture_on_commit_callbacks
):
    client = staff_client("view_outboxemail", "resend_outboxemail")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            OUTBOX,
            {"action": "resend_including_sent", "_selected_action": [emails["sent"].pk]},
        )
    assert [m.subject for m in mail.outbox] == ["Sent one"]
    assert AuditEntry.objects.filter(action="email.resent").count() == 1


def test_resend_needs_its_permission(staff_client, emails, django_capture_on_commit_callbacks):
    client = staff_client("view_outboxemail")
    assert 'value="resend_failed"' not in client.get(OUTBOX).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(OUTBOX, {"action": "resend_failed", "_selected_action": [emails["failed"].pk]})
    assert mail.outbox == []
    assert not AuditEntry.objects.filter(action="email.resent").exists()
    assert staff_client().get(OUTBOX).status_code == 403

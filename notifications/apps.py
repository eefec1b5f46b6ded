from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The one e-mail outbox: e-mails stored with the transaction that decided them and sent
    after it commits. Apps compose their e-mails and hand them to notifications.services."""

    name = "notifications"
    verbose_name = "Notifications"

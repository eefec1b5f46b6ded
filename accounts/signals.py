"""Reactions to Django's auth events: count failed logins, revoke tokens on a new password."""

from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts import login_throttle, tokens
from accounts.models import User


@receiver(user_login_failed, dispatch_uid="accounts-count-failed-login")
def count_failed_login(sender, credentials, request=None, **kwargs):
    # Every way in ends in authenticate(): one place counts them all. Without a request
    # (a management command, a test) there is no client to count against.
    if request is not None:
        login_throttle.record_failure(request, credentials.get("username", ""))


@receiver(pre_save, sender=User, dispatch_uid="accounts-notice-password-change")
def notice_password_change(sender, instance, update_fields=None, **kwargs):
    # Any way the password changes (set_password, the admin's form, changepassword,
    # set_unusable_password, a plain assignment) ends in a save with a new hash.
    instance._password_changed = False
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = stored is not None and stored != instance.password


@receiver(post_save, sender=User, dispatch_uid="accounts-revoke-tokens-on-password-change")
def revoke_tokens_on_password_change(sender, instance, created, **kwargs):
    if getattr(instance, "_password_changed", False):
        tokens.revoke_all_tokens(instance.pk)
        instance._password_changed = False

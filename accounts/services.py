from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from accounts import login_throttle, tokens
from accounts.models import AuthToken, User
from audit.services import record
from core.errors import InvalidInput


def register_user(*, email: str, password: str) -> tuple[User, str]:
    email = User.objects.normalize_email(email).lower()
    candidate = User(email=email)
    try:
        password_validation.validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise InvalidInput(fields={"password": list(exc.messages)}) from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password)
            key = tokens.issue_token(user)
    except IntegrityError as exc:
        raise InvalidInput(
            fields={"email": ["An account with this e-mail address already exists."]}
        ) from exc
    record("user.registered", actor=user, obj=user)
    return user, key


def log_in(request, *, email: str, password: str) -> str:
    """A new token for good credentials (the clear key, shown once).

    Refused with 429 before the password is checked while the account or the client has
    too many recent failures (accounts.login_throttle); a failure here is counted by the
    `user_login_failed` signal that `authenticate` sends.
    """
    login_throttle.check(request, email)
    user = authenticate(request, username=email.strip().lower(), password=password)
    if user is None or not user.is_active:
        raise InvalidInput("E-mail address or password is wrong.", code="invalid_credentials")
    return tokens.issue_token(user)


def log_out(*, user: User, token: AuthToken) -> None:
    tokens.revoke_token(token)
    record("user.logged_out", actor=user, obj=user)

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from accounts.models import User
from audit.services import record
from config.errors import InvalidInput


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
            token = Token.objects.create(user=user)
    except IntegrityError as exc:
        raise InvalidInput(
            fields={"email": ["An account with this e-mail address already exists."]}
        ) from exc
    record("user.registered", actor=user, obj=user)
    return user, token.key


def issue_token(*, email: str, password: str) -> str:
    user = authenticate(username=email.strip().lower(), password=password)
    if user is None or not user.is_active:
        raise InvalidInput("E-mail address or password is wrong.", code="invalid_credentials")
    token, _ = Token.objects.get_or_create(user=user)
    return token.key

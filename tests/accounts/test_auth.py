import pytest

from accounts.models import User
from tests.conftest import error_code
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_register_returns_a_token_that_authenticates(anon):
    response = anon.post(
        "/api/v1/auth/register/", {"email": "New@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "new@example.com"
    assert User.objects.filter(email="new@example.com").count() == 1

    anon.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert anon.get("/api/v1/cart/").status_code == 200


@pytest.mark.parametrize("password", ["short", "password123", "12345678901"])
def test_register_applies_django_password_validators(anon, password):
    response = anon.post("/api/v1/auth/register/", {"email": "a@example.com", "password": password})
    assert response.status_code == 400
    assert error_code(response) == "validation_error"
    assert "password" in response.json()["error"]["fields"]
    assert not User.objects.exists()


def test_register_refuses_a_taken_email_and_unknown_fields(anon):
    UserFactory(email="taken@example.com")
    taken = anon.post(
        "/api/v1/auth/register/", {"email": "TAKEN@example.com", "password": PASSWORD}
    )
    assert taken.status_code == 400
    assert "email" in taken.json()["error"]["fields"]

    extra = anon.post(
        "/api/v1/auth/register/", {"email": "b@example.com", "password": PASSWORD, "is_staff": True}
    )
    assert extra.status_code == 400
    assert extra.json()["error"]["fields"] == {"is_staff": ["Unknown field."]}
    assert not User.objects.filter(email="b@example.com").exists()


def test_token_for_good_credentials_and_400_for_bad(anon):
    user = UserFactory()
    good = anon.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})
    assert good.status_code == 200
    assert len(good.json()["token"]) == 40

    bad = anon.post("/api/v1/auth/token/", {"email": user.email, "password": "wrong-password"})
    assert bad.status_code == 400
    assert error_code(bad) == "invalid_credentials"


def test_unauthenticated_storefront_calls_get_401_in_the_error_body(anon):
    response = anon.get("/api/v1/orders/")
    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"

    forged = anon.get("/api/v1/cart/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert forged.status_code == 401
    assert error_code(forged) == "invalid_token"

import pytest

pytestmark = pytest.mark.django_db


def test_health(anon):
    response = anon.get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_reports_each_check(anon, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_abc"]
    ready = anon.get("/api/v1/health/ready/")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {"database", "cache", "broker", "stripe"}

    settings.STRIPE_SECRET_KEY = ""
    unready = anon.get("/api/v1/health/ready/")
    assert unready.status_code == 503
    assert unready.json()["checks"]["stripe"]["status"] == "error"
    assert unready.json()["checks"]["database"]["status"] == "ok"


def test_openapi_schema_and_docs_page(anon):
    schema = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/orders/",
        "/api/v1/orders/{id}/cancel/",
        "/api/v1/cart/lines/",
        "/api/v1/products/",
    ):
        assert path in paths
    docs = anon.get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_the_schema_is_built_once_and_served_in_both_formats(anon, monkeypatch):
    from drf_spectacular.generators import SchemaGenerator

    from api.schema import forget_built_schemas

    forget_built_schemas()
    builds = []
    original = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        builds.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    first = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    second = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    as_yaml = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")

    assert first.status_code == second.status_code == as_yaml.status_code == 200
    assert first.json() == second.json()
    assert "/api/v1/orders/" in first.json()["paths"]
    assert as_yaml.content.startswith(b"openapi:")
    assert len(builds) == 1


@pytest.fixture
def ready_emulator_eager(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_abc"]
    settings.STRIPE_API_BASE = "http://127.0.0.1:12111"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.METRICS_TOKEN = "metrics-" + "t" * 32


def test_public_readiness_says_only_ok_or_error_per_check(anon, ready_emulator_eager):
    ready = anon.get("/api/v1/health/ready/")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok"},
            "cache": {"status": "ok"},
            "broker": {"status": "ok"},
            "stripe": {"status": "ok"},
        },
    }
    assert b"emulator" not in ready.content and b"eager" not in ready.content


def test_public_readiness_failure_names_the_check_but_no_detail(
    anon, ready_emulator_eager, settings
):
    settings.STRIPE_SECRET_KEY = ""
    unready = anon.get("/api/v1/health/ready/")
    assert unready.status_code == 503
    assert unready.json()["checks"]["stripe"] == {"status": "error"}
    assert b"STRIPE" not in unready.content and b"Error" not in unready.content


def test_readiness_details_need_the_metrics_token_or_staff(
    anon, client, ready_emulator_eager, settings
):
    wrong = anon.get("/api/v1/health/ready/", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert "detail" not in wrong.json()["checks"]["broker"]

    detailed = anon.get(
        "/api/v1/health/ready/", HTTP_AUTHORIZATION=f"Bearer {settings.METRICS_TOKEN}"
    )
    assert detailed.status_code == 200
    assert detailed.json()["checks"]["stripe"] == {"status": "ok", "detail": "emulator"}
    assert "eager" in detailed.json()["checks"]["broker"]["detail"]

    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True))
    staff = client.get("/api/v1/health/ready/")
    assert staff.json()["checks"]["stripe"]["detail"] == "emulator"

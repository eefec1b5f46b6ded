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

    from config.schema import forget_built_schemas

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

"""What a client (or Swagger UI's "Try it out") learns from the OpenAPI schema is true.

The schema is read the way a client reads it, from /api/v1/schema/; where it makes a claim
that can be checked against the running API (the Idempotency-Key header, the token scheme),
the claim is checked with real requests.
"""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema

from api.schema import forget_built_schemas
from tests.factories import OrderFactory, UserFactory, token_for

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/Error"
IDEMPOTENT_POSTS = {
    "/api/v1/orders/",
    "/api/v1/orders/{id}/cancel/",
    "/api/v1/orders/{id}/payment-intent/",
    "/api/v1/orders/{id}/checkout-session/",
}
# Probes for the load balancer and the orchestrator: they answer with their own bodies
# (readiness documents its 503 with the checks), never with the error body.
PROBES = {("get", "/api/v1/health/"), ("get", "/api/v1/health/ready/")}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(anon):
    forget_built_schemas()
    response = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def header(operation, name):
    found = [
        p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == name
    ]
    return found[0] if found else None


def resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


# --- Idempotency-Key -------------------------------------------------------------------
def test_every_post_that_needs_an_idempotency_key_documents_it_as_required(schema):
    documented = {path for method, path, op in operations(schema) if header(op, "Idempotency-Key")}
    assert documented == IDEMPOTENT_POSTS
    for path in IDEMPOTENT_POSTS:
        parameter = header(schema["paths"][path]["post"], "Idempotency-Key")
        assert parameter["required"] is True
        assert parameter["schema"]["type"] == "string"
        assert parameter["schema"]["maxLength"] == 255
        rules = parameter["description"]
        for rule in ("255", "per user", "Idempotent-Replayed: true", "422", "409"):
            assert rule in rules, rule


def test_the_documented_header_is_exactly_where_the_api_demands_it(schema, client_for, user):
    """Every POST of the schema, sent without the header by a signed-in shopper: the ones
    documenting it refuse with idempotency_key_required, the others never ask for it."""
    order = OrderFactory(user=user)
    client = client_for(user)
    for method, path, operation in operations(schema):
        if method != "post" or path == "/api/v1/auth/logout/":  # would revoke the token
            continue
        response = client.post(path.replace("{id}", str(order.pk)), {})
        code = response.json().get("error", {}).get("code") if response.content else None
        if header(operation, "Idempotency-Key"):
            assert (response.status_code, code) == (400, "idempotency_key_required"), path
        else:
            assert code != "idempotency_key_required", path


def test_idempotent_answers_document_the_replay_header(schema):
    for path in IDEMPOTENT_POSTS:
        success = schema["paths"][path]["post"]["responses"]
        ok = [status for status in success if status.startswith("2")]
        assert ok, path
        for status in ok:
            assert "Idempotent-Replayed" in success[status].get("headers", {}), path


# --- error responses -------------------------------------------------------------------
def test_the_error_body_is_a_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    detail = resolve(schema, error["properties"]["error"])
    assert set(detail["properties"]) == {"code", "message", "fields"}
    assert set(detail["required"]) == {"code", "message"}  # fields: validation errors only
    assert detail["properties"]["fields"]["type"] == "object"


def test_every_operation_documents_its_errors_with_the_error_component(schema):
    for method, path, operation in operations(schema):
        if (method, path) in PROBES:
            continue
        errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
        assert errors, f"{method} {path} documents no error"
        for status, response in errors.items():
            media = response["content"]["application/json"]
            assert media["schema"] == {"$ref": ERROR_REF}, (method, path, status)
            examples = media["examples"]
            assert examples, (method, path, status)
            for example in examples.values():
                code = example["value"]["error"]["code"]
                assert re.fullmatch(r"[a-z][a-z0-9_]*", code), code
                assert example["value"]["error"]["message"]
            if status in ("429", "503"):
                assert response["headers"]["Retry-After"]["schema"]["type"] == "integer"


def error_codes(schema, method, path):
    responses = schema["paths"][path][method]["responses"]
    return {
        int(status): {
            example["value"]["error"]["code"]
            for example in response["content"]["application/json"]["examples"].values()
        }
        for status, response in responses.items()
        if int(status) >= 400
    }


def test_each_operation_lists_the_statuses_it_can_answer(schema):
    order = error_codes(schema, "post", "/api/v1/orders/")
    assert set(order) == {400, 401, 403, 409, 413, 422, 429, 503}
    assert {"validation_error", "idempotency_key_required", "invalid_amount"} <= order[400]
    assert {"insufficient_stock", "too_many_pending_orders", "idempotency_key_in_use"} <= order[409]
    assert order[422] == {"idempotency_key_reused"}
    assert order[401] == {"not_authenticated", "invalid_token"}
    assert order[403] == {"csrf_failed"}

    intent = error_codes(schema, "post", "/api/v1/orders/{id}/payment-intent/")
    assert set(intent) == {400, 401, 402, 403, 404, 409, 413, 422, 429, 502, 503}
    assert {"order_not_payable", "reservation_expired", "payment_in_progress"} <= intent[409]
    assert {"rate_limited", "too_many_failed_payments"} <= intent[429]
    assert {"service_unavailable", "stripe_unavailable", "payments_disabled"} <= intent[503]

    # Reading the catalog needs no account: only a bad token is refused, and nothing is
    # written (no CSRF, no body).
    products = error_codes(schema, "get", "/api/v1/products/{id}/")
    assert set(products) == {401, 404, 503}
    assert products[401] == {"invalid_token"}
    assert set(error_codes(schema, "get", "/api/v1/products/")) == {401, 404, 503}  # a page

    token = error_codes(schema, "post", "/api/v1/auth/token/")
    assert set(token) == {400, 413, 429, 503}
    assert {"invalid_credentials", "validation_error"} <= token[400]
    assert {"rate_limited", "too_many_failed_logins"} <= token[429]

    # Token only (no session, so no CSRF), and no body.
    assert set(error_codes(schema, "post", "/api/v1/auth/logout/")) == {401, 503}
    assert set(error_codes(schema, "delete", "/api/v1/cart/lines/{id}/")) == {401, 403, 404, 503}


# --- types, words, validity ------------------------------------------------------------
def test_path_ids_are_integers(schema):
    seen = 0
    for method, path, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["name"] == "id", path
                assert parameter["schema"]["type"] == "integer", (method, path)
                assert parameter["schema"]["minimum"] >= 0
                seen += 1
    assert seen >= 8


def test_order_and_product_ids_in_bodies_are_integers(schema):
    schemas = schema["components"]["schemas"]
    for name, field in [
        ("OrderOutput", "id"),
        ("OrderLineOutput", "id"),
        ("OrderLineOutput", "product_id"),
        ("CartLineOutput", "id"),
        ("CartLineOutput", "product_id"),
        ("Product", "id"),
        ("OrderLineInputRequest", "product_id"),
        ("CartLineCreateInputRequest", "product_id"),
    ]:
        assert schemas[name]["properties"][field]["type"] == "integer", (name, field)


def test_every_operation_has_a_summary_a_description_and_one_declared_tag(schema):
    declared = {tag["name"] for tag in schema["tags"]}
    assert {"Accounts", "Catalog", "Cart", "Orders", "Payments", "Health"} <= declared
    for method, path, operation in operations(schema):
        assert operation.get("summary"), (method, path)
        assert operation.get("description"), (method, path)
        assert len(operation["tags"]) == 1 and operation["tags"][0] in declared, (method, path)
    assert schema["paths"]["/api/v1/orders/{id}/payment-intent/"]["post"]["tags"] == ["Payments"]


def test_the_schema_is_valid_openapi_and_builds_without_warnings(schema):
    validate_schema(schema)
    out, err = StringIO(), StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=err)
    assert "Warning" not in err.getvalue() and "Error" not in err.getvalue(), err.getvalue()


# --- Swagger UI ------------------------------------------------------------------------
def test_the_token_scheme_is_what_the_api_accepts(schema, anon):
    schemes = schema["components"]["securitySchemes"]
    token = schemes["tokenAuth"]
    assert (token["type"], token["in"], token["name"]) == ("apiKey", "header", "Authorization")
    assert "Token " in token["description"]
    ops = dict(((m, p), op) for m, p, op in operations(schema))
    assert {"tokenAuth": []} in ops[("post", "/api/v1/orders/")]["security"]

    # What Swagger UI sends once the shopper pasted "Token <key>" into Authorize.
    shopper = UserFactory()
    answer = anon.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Token {token_for(shopper)}")
    assert answer.status_code == 200


def test_the_docs_page_loads_everything_from_this_site_under_the_strict_policy(anon):
    page = anon.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "<script>" not in html and "<style" not in html
    script = next(s for s in sources if "script" in s and "docs" in s)
    init = anon.get(script.replace("&amp;", "&"))
    assert init.status_code == 200 and b"SwaggerUIBundle" in init.content


def test_documented_examples_are_the_bodies_the_api_sends(schema, client_for, user):
    documented = schema["paths"]["/api/v1/orders/"]["post"]["responses"]
    client = client_for(user)

    unknown = client.post_idem("/api/v1/orders/", {"price": 1})
    example = documented["400"]["content"]["application/json"]["examples"]["validation_error"]
    assert (unknown.status_code, unknown.json()) == (400, example["value"])

    keyless = client.post("/api/v1/orders/", {})
    example = documented["400"]["content"]["application/json"]["examples"][
        "idempotency_key_required"
    ]
    assert keyless.json() == example["value"]

    anonymous = client_for(user)
    anonymous.credentials()
    refused = anonymous.post_idem("/api/v1/orders/", {})
    example = documented["401"]["content"]["application/json"]["examples"]["not_authenticated"]
    assert (refused.status_code, refused.json()) == (401, example["value"])
    assert (
        refused["WWW-Authenticate"]
        == documented["401"]["headers"]["WWW-Authenticate"]["schema"]["enum"][0]
    )

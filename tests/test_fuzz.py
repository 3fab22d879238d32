"""Schemathesis fuzzes every API endpoint from /openapi.json: no 5xx, every error in its dialect's shape."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from helpers import make_app

CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def api_schema(tmp_path):
    app = make_app(tmp_path)
    for name in [key for key in app.config if key.endswith("_RATE_LIMIT")]:
        app.config[name] = "100000 per minute"
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


def test_every_endpoint_answers_generated_input_in_its_dialects_shape(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        @given(operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            case.call_and_validate(checks=CHECKS)

        fuzz()


PROVISIONING = ("/_sandbox/users", "/_sandbox/clients", "/_sandbox/organizations", "/_sandbox/roles",
                "/_sandbox/operations", "/_sandbox/fixtures/schema")


def test_the_provisioning_routes_answer_generated_input_with_the_admin_token(tmp_path):
    """Generated users, clients, organizations, roles and operations (valid ones get stored): no 5xx, and every
    answer in the admin API's documented shape."""
    app = make_app(tmp_path, SANDBOX_ADMIN_TOKEN="test-admin-token")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if operation.path.startswith(PROVISIONING)]
    assert len(operations) >= 20
    for operation in operations:
        @given(operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            case.call_and_validate(headers={"Authorization": "Bearer test-admin-token"}, checks=CHECKS)

        fuzz()

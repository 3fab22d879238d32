"""Schemathesis fuzzes every API endpoint from /openapi.json: no 5xx, every error in its dialect's shape."""
import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from helpers import make_app
from oauth_sandbox.extensions import db

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


STATEFUL_EXAMPLES = int(os.environ.get("SANDBOX_FUZZ_STATEFUL_EXAMPLES", 15))


def bearer_for(app):
    """Each dialect's token for the demo user (mokapen's private demo app: tasks and contacts of organization 849)."""
    client = app.test_client()
    mokapen = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": "mokapen-private-demo",
        "client_secret": "mokapen-private-demo-secret", "organization_id": "849",
        "scope": "tasks.read tasks.write contacts.read"}).json["access_token"]
    fusio = client.post("/consumer/login", json={"username": "johndoe", "password": "demo-password"}).json["token"]
    v1 = client.post("/v1/oauth/?username=johndoe&password=demo-password").json["data"]["access_token"]
    return {"/api/v1/": mokapen, "/protected_endpoint": fusio, "/v1/": v1}


def fresh_app(path):
    """A new app on a new database (demo data, ids from 1), with room under every rate limit."""
    path.mkdir()
    app = make_app(path)
    for name in [key for key in app.config if key.endswith("_RATE_LIMIT")]:
        app.config[name] = "100000 per minute"
    return app


class Current:
    """The WSGI app Schemathesis calls: each scenario's own (a scenario must find the same data as any other, or
    Hypothesis reports its generation as flaky: the steps it can take depend on the answers)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@pytest.mark.parametrize("api", ["^/api/v1/", "^/v1/"])
def test_stateful_sequences_follow_the_documents_links(tmp_path, api):
    """Schemathesis's stateful tests, one API at a time: mokapen's created items are read, replaced, updated and
    deleted through the document's links, v1's sessions listed and deauthorized, with real tokens (for mokapen's
    organization 849), and every check holds (no 5xx, the documented shapes and statuses, a deleted item is gone, a
    created one is there). Each scenario starts on fresh demo data. The admin API is left out: its reset and
    faults change everything by design."""
    current = Current(fresh_app(tmp_path / "document"))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", current).include(path_regex=api)
    # Valid steps only: invalid input is the stateless test's and test_fuzz_raw's.
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    followed = Counter()
    scenarios = iter(range(10**6))

    class Workflow(schema.as_state_machine()):
        def setup(self):
            current.app = fresh_app(tmp_path / f"scenario-{next(scenarios)}")
            self.tokens = bearer_for(current.app)

        def teardown(self):
            with current.app.app_context():
                db.engine.dispose()

        def before_call(self, case):
            if "org_id" in (case.path_parameters or {}):
                case.path_parameters["org_id"] = 849  # the token's organization (another one is a 403)

        def after_call(self, response, case):
            super().after_call(response, case)
            followed[(case.method, case.path, response.status_code // 100)] += 1

        def get_call_kwargs(self, case):
            token = next((value for prefix, value in self.tokens.items() if case.path.startswith(prefix)), None)
            headers = {"Accept": "application/json"}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            return {"headers": headers}

    Workflow.run(settings=settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=6, deadline=None,
                                   suppress_health_check=list(HealthCheck), database=None))
    # links were followed: an item (a session) read, replaced, updated or deleted by the id an answer gave
    assert any(method != "GET" and "}" in path and kind == 2 for method, path, kind in followed), followed

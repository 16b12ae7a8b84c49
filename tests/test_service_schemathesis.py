"""Property-based requests (schemathesis 4) against the live API (uvicorn on 127.0.0.1): no 5xx, and every response's status,
content type and body conform to the committed OpenAPI document; the committed document is the generated one."""
import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from service_server import REPO, Server, build_store

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def test_committed_openapi_is_the_generated_one():
    from oceanguard.service.web import create_app
    generated = json.loads(json.dumps(create_app(None).openapi(), sort_keys=True))
    committed = json.loads((REPO / "docs" / "openapi.json").read_text())
    assert committed == generated, "docs/openapi.json is stale: regenerate it with `oceanguard serve --openapi docs/openapi.json`"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    s = Server(build_store(tmp_path_factory.mktemp("st")))
    yield s
    s.stop()


def run_schema(url: str, max_examples: int) -> list[str]:
    "Every operation (but the endless SSE stream) with `max_examples` generated cases; the failures as text."
    from hypothesis import given
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    failures = []
    for res in schema.get_all_operations():
        op = res.ok()
        if op.path == "/anomalies/stream": continue          # an endless stream: tested in test_service_http

        @given(case=op.as_strategy())
        @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            case.call_and_validate(checks=CHECKS, timeout=60)
        try: check()
        except Exception as e: failures.append(f"{op.method.upper()} {op.path}: {str(e)[:1500]}")
    return failures


def test_api_conforms(live):
    failures = run_schema(live.url, max_examples=10)
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_api_conforms_long(live):
    failures = run_schema(live.url, max_examples=200)
    assert not failures, "\n\n".join(failures)

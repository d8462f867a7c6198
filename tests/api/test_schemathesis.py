"""Property-based API test from the app's own OpenAPI document (schemathesis).

The question it answers: *does any generated request, as any role, make the server fail or
answer outside what the OpenAPI document promises?* Every operation is called with bounded
examples per role (analyst, pcso, viewer) on the Gloucester sample, and each response is
checked for a server error (5xx), an undocumented status code, an undocumented content type,
a body or headers that do not match the documented schema. The run must cover at least 1,000
cases and find nothing.
"""

from __future__ import annotations

import collections

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.failures import FailureGroup

from geo_ssgp.api import create_app
from geo_ssgp.config import get_settings

ROLES = ("analyst", "pcso", "viewer")
EXAMPLES = 25
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    """The app on the sample, with a failed-login limit a fuzzer cannot reach."""
    settings_ = get_settings(
        store_dir=tmp_path_factory.mktemp("fuzz-store"), auth_failures_per_minute=10**6
    )
    return create_app(settings_, load_sample=True)


def _run(operation, role: str, failures: collections.Counter, counter: list[int]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases on every run: CI does not depend on luck
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case) -> None:
        counter[0] += 1
        try:
            case.call_and_validate(
                headers={"Authorization": f"Bearer dev-{role}"}, checks=CHECKS, timeout=300
            )
        except (AssertionError, FailureGroup) as exc:  # one failure, or several at once
            failures[(role, operation.label, str(exc).strip().splitlines()[0][:160])] += 1

    run()


@pytest.mark.slow
def test_no_server_errors_and_no_schema_violations(fuzz_app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    failures: collections.Counter = collections.Counter()
    counter = [0]
    for role in ROLES:
        for result in schema.get_all_operations():
            _run(result.ok(), role, failures, counter)
    assert dict(failures) == {}
    assert counter[0] >= 1000

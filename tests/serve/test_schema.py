"""Schemathesis over the OpenAPI schema: whatever it sends, the server never answers 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from bioner.api import Tagger
from bioner.serve import Limits, create_app


def test_no_generated_request_gets_a_server_error(tagger: Tagger) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(tagger, Limits(max_texts=4, max_chars=500)))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/annotate", "/annotate/file", "/health", "/model"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        check()

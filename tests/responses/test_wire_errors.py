"""Mapping API errors to typed errors, and the suggested retry delay."""

from __future__ import annotations

import pytest

from codeagent.responses.errors import (
    AuthenticationError,
    ConnectionLimitReached,
    PreviousResponseNotFound,
    RateLimited,
    RequestRejected,
    ServerError,
    error_from_payload,
    retry_after_from,
)


@pytest.mark.parametrize(
    ("status", "code", "cls", "retryable"),
    [
        (400, "previous_response_not_found", PreviousResponseNotFound, True),
        (400, "websocket_connection_limit_reached", ConnectionLimitReached, True),
        (401, "invalid_api_key", AuthenticationError, False),
        (429, "rate_limit_exceeded", RateLimited, True),
        (500, "server_error", ServerError, True),
        (503, None, ServerError, True),
        (400, "invalid_request_error", RequestRejected, False),
    ],
)
def test_error_codes_map_to_typed_errors(status, code, cls, retryable):
    exc = error_from_payload(status, {"code": code, "message": "boom"})
    assert type(exc) is cls
    assert exc.retryable is retryable
    assert "boom" in exc.message


def test_retry_after_from_header_message_or_nothing():
    assert retry_after_from("", {"Retry-After": "2"}) == 2.0
    assert retry_after_from("", {"retry-after-ms": "250"}) == 0.25
    assert retry_after_from("Please try again in 1.5s.") == 1.5
    assert retry_after_from("Please try again in 300ms.") == 0.3
    assert retry_after_from("slow down", {"Retry-After": "Wed, 21 Oct 2015"}) is None


def test_rate_limit_carries_the_delay_from_nested_ws_headers():
    exc = error_from_payload(
        429, {"code": "rate_limit_exceeded", "message": "x", "headers": {"retry-after": "0.5"}}
    )
    assert isinstance(exc, RateLimited) and exc.retry_after == 0.5


def test_auth_error_tells_the_user_what_to_check():
    exc = error_from_payload(401, {"message": "Incorrect API key provided"})
    assert "OPENAI_API_KEY" in exc.message

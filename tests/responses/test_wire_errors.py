"""Mapping API errors to typed errors, and the suggested retry delay."""

from __future__ import annotations

import pytest

from codeagent.responses.errors import (
    AuthenticationError,
    ConnectionLimitReached,
    PermissionDenied,
    PreviousResponseNotFound,
    QuotaExceeded,
    RateLimited,
    RequestRejected,
    ServerError,
    error_from_payload,
    error_from_wire,
    retry_after_from,
)


@pytest.mark.parametrize(
    ("status", "code", "cls", "retryable"),
    [
        (400, "previous_response_not_found", PreviousResponseNotFound, True),
        (400, "websocket_connection_limit_reached", ConnectionLimitReached, True),
        (401, "invalid_api_key", AuthenticationError, False),
        (403, None, PermissionDenied, False),
        (429, "insufficient_quota", QuotaExceeded, False),
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


@pytest.mark.parametrize(
    "payload",
    [
        # WebSocket error event, delay in the nested headers (what the local server sends)
        {
            "type": "error",
            "status": 429,
            "error": {
                "code": "rate_limit_exceeded",
                "message": "x",
                "headers": {"retry-after": "2"},
            },
        },
        # ...in headers at the top level of the event
        {
            "type": "error",
            "status": 429,
            "headers": {"Retry-After": "2"},
            "error": {"code": "rate_limit_exceeded", "message": "x"},
        },
        # ...as a number, top level or in the error object
        {
            "type": "error",
            "status": 429,
            "retry_after": 2,
            "error": {"code": "rate_limit_exceeded"},
        },
        {
            "type": "error",
            "status": 429,
            "error": {"code": "rate_limit_exceeded", "retry_after": 2},
        },
        # flat SSE error event, delay in the message
        {"type": "error", "code": "rate_limit_exceeded", "message": "Please try again in 2s."},
        # HTTP error body
        {"error": {"code": "rate_limit_exceeded", "message": "x", "retry_after_ms": 2000}},
    ],
)
def test_every_error_shape_gives_the_same_retry_delay(payload):
    exc = error_from_wire(429 if "type" not in payload else None, payload)
    assert isinstance(exc, RateLimited) and exc.retry_after == 2.0


def test_a_5xx_carries_the_servers_retry_after_too():
    exc = error_from_wire(503, {"error": {"message": "busy"}}, {"retry-after": "3"})
    assert isinstance(exc, ServerError) and exc.retryable and exc.retry_after == 3.0


def test_insufficient_quota_is_not_a_rate_limit_and_says_what_to_check():
    exc = error_from_wire(429, {"error": {"code": "insufficient_quota", "message": "No quota."}})
    assert isinstance(exc, QuotaExceeded) and not exc.retryable
    assert "billing" in exc.message.lower() and "plan" in exc.message


def test_a_403_is_not_called_a_bad_key():
    exc = error_from_wire(403, {"error": {"message": "Project does not have access."}})
    assert isinstance(exc, PermissionDenied) and "OPENAI_API_KEY" not in exc.message
    assert "Project does not have access." in exc.message


@pytest.mark.parametrize(
    "payload",
    [{"error": "a string"}, {"error": {"code": 5, "message": ["x"]}}, {"retry_after": "soon"}, {}],
)
def test_odd_error_payloads_still_give_a_sentence(payload):
    exc = error_from_wire(400, payload)
    assert isinstance(exc, RequestRejected) and exc.message.startswith("Request rejected")

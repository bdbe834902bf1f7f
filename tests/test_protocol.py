"""The sans-I/O core: request building and answer deciphering, with no network."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intercom_async import (
    ApiError,
    AuthenticationError,
    InvalidTicketIdError,
    NotFoundError,
    PermissionDeniedError,
    RateLimit,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    Ticket,
    TransportError,
)
from intercom_async._limits import (
    MAX_SERVER_WAIT,
    LimitHeaders,
    clock_skew,
    http_date,
    retry_after,
    retry_after_seconds,
)
from intercom_async._models import Reference
from intercom_async._protocol import (
    USER_AGENT,
    Response,
    add_headers,
    api_error,
    build_headers,
    decipher_ticket,
    decode,
    is_loopback_url,
    resolve_base_url,
    ticket_path,
    validate_version,
)
from intercom_async._ratelimit import Window
from intercom_async._skew import ServerClock

from .conftest import load

JSON = {"Content-Type": "application/json"}
HEADER_NAMES = [
    "Date",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Content-Type",
]


@pytest.mark.parametrize(
    "version", ["1.0", "1.4", "2.0", "2.9", "2.10", "2.11", "2.14", "3.0", "Unstable"]
)
def test_versions_accepted(version: str) -> None:
    assert validate_version(version) == version


@pytest.mark.parametrize("version", ["", "2", "1.5", "2.09", "v2.9", "latest", "2.9.1", " 2.9"])
def test_versions_refused(version: str) -> None:
    with pytest.raises(ValueError, match="Intercom API version"):
        validate_version(version)


def test_regions_and_base_url() -> None:
    assert resolve_base_url("us", None) == "https://api.intercom.io"
    assert resolve_base_url("eu", None) == "https://api.eu.intercom.io"
    assert resolve_base_url("au", None) == "https://api.au.intercom.io"
    assert resolve_base_url("eu", "https://proxy.example.com/intercom/") == (
        "https://proxy.example.com/intercom"
    )
    with pytest.raises(ValueError, match="unknown region 'mars'"):
        resolve_base_url("mars", None)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9"])
def test_plain_http_is_fine_on_loopback(url: str) -> None:
    assert resolve_base_url("us", url) == url


def test_plain_http_elsewhere_needs_opting_in() -> None:
    with pytest.raises(ValueError, match=r"plain http to api\.example\.com"):
        resolve_base_url("us", "http://api.example.com")
    assert resolve_base_url("us", "http://api.example.com", allow_insecure_http=True)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x.example.com",
        "api.intercom.io",
        "https://user:pw@x.example.com",
        "https://x.example.com/?a=1",
    ],
)
def test_bad_base_urls(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        resolve_base_url("us", url)


def test_headers() -> None:
    headers = build_headers("t0k", "2.9")
    assert headers == {
        "Authorization": "Bearer t0k",
        "Accept": "application/json",
        "Intercom-Version": "2.9",
        "User-Agent": USER_AGENT,
    }
    assert USER_AGENT.startswith("intercom-async/")
    assert "t0k" not in repr(headers)
    assert "Bearer <redacted>" in repr(headers)


@pytest.mark.parametrize(
    ("ticket_id", "path"),
    [
        ("1295", "/tickets/1295"),
        (1295, "/tickets/1295"),
        ("../admins", "/tickets/..%2Fadmins"),
        ("..", "/tickets/%2E%2E"),
        (".", "/tickets/%2E"),
        ("a b?c#d", "/tickets/a%20b%3Fc%23d"),
        ("ü/1", "/tickets/%C3%BC%2F1"),
    ],
)
def test_ticket_path_is_one_encoded_segment(ticket_id: str | int, path: str) -> None:
    assert ticket_path(ticket_id) == path


@pytest.mark.parametrize("ticket_id", ["", "   ", None, True, 1.5, b"12"])
def test_bad_ticket_ids(ticket_id: object) -> None:
    with pytest.raises(InvalidTicketIdError) as info:
        ticket_path(ticket_id)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_rate_limit_headers() -> None:
    seen = RateLimit.from_headers(
        {
            "X-RateLimit-Limit": "1000",
            "X-RateLimit-Remaining": "998",
            "X-RateLimit-Reset": "1717000010",
        }
    )
    assert seen == RateLimit(limit=1000, remaining=998, reset=1717000010.0)
    assert seen.reset_at == datetime(2024, 5, 29, 16, 26, 50, tzinfo=UTC)
    assert RateLimit.from_headers({}) is None
    assert RateLimit.from_headers({"X-RateLimit-Remaining": "soon"}) is None


def test_retry_after_prefers_retry_after_then_reset() -> None:
    now = 1_000.0
    assert retry_after_seconds({"Retry-After": "3"}, now) == 3.0
    assert retry_after_seconds({"X-RateLimit-Reset": "1004"}, now) == 4.0
    assert retry_after_seconds({"Retry-After": "2", "X-RateLimit-Reset": "1009"}, now) == 2.0
    assert retry_after_seconds({"X-RateLimit-Reset": "990"}, now) == 0.0
    assert retry_after_seconds({}, now) is None
    date = format_datetime(datetime.fromtimestamp(now + 7, UTC), usegmt=True)
    assert retry_after_seconds({"Retry-After": date}, now) == pytest.approx(7.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("31536000", MAX_SERVER_WAIT),  # a year
        ("1e15", MAX_SERVER_WAIT),
        ("300.5", MAX_SERVER_WAIT),
        ("300", 300.0),
        ("299.5", 299.5),
    ],
)
def test_no_server_may_ask_for_a_wait_past_the_cap(value: str, expected: float) -> None:
    now = 1_000_000.0
    assert MAX_SERVER_WAIT == 300.0
    assert retry_after({"Retry-After": value}, now) == expected
    assert retry_after_seconds({"Retry-After": value}, now) == expected
    in_a_year = format_datetime(datetime.fromtimestamp(now + 31536000, UTC), usegmt=True)
    assert retry_after({"Retry-After": in_a_year}, now) == MAX_SERVER_WAIT


@pytest.mark.parametrize(
    ("reset", "expected"), [(86_400.0, MAX_SERVER_WAIT), (300.5, MAX_SERVER_WAIT), (299.0, 299.0)]
)
def test_a_reset_far_away_asks_for_no_more_than_the_cap(reset: float, expected: float) -> None:
    now = 1_000_000.0
    headers = {"X-RateLimit-Reset": str(now + reset)}
    assert retry_after_seconds(headers, now) == expected


def body(name: str) -> bytes:
    return json.dumps(load(name)).encode()


def test_decipher_a_ticket() -> None:
    ticket = decipher_ticket(200, JSON, body("reference_example.json"))
    assert isinstance(ticket, Ticket)
    assert ticket.id == "1295"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ApiError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (408, ApiError),
        (422, ApiError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (302, ApiError),
    ],
)
def test_each_status_has_its_error_class(status: int, cls: type[ApiError]) -> None:
    headers = {**JSON, "X-Request-Id": "hdr-id"}
    with pytest.raises(cls) as info:
        decipher_ticket(status, headers, body("error_401.json"), reason="Why", path="/tickets/1")
    error = info.value
    assert type(error) is cls
    assert error.status == status
    assert error.request_id == "f93ecfa8-d08a-4325-8694-89aeb89c8f85"
    assert [(e.code, e.message, e.field) for e in error.errors] == [
        ("unauthorized", "Access Token Invalid", None)
    ]
    assert error.code == "unauthorized"
    assert error.headers["x-request-id"] == "hdr-id"
    assert str(error) == (
        f"GET /tickets/1: HTTP {status} Why: unauthorized: Access Token Invalid "
        "(request_id=f93ecfa8-d08a-4325-8694-89aeb89c8f85)"
    )


def test_error_without_error_list() -> None:
    with pytest.raises(ServerError) as info:
        decipher_ticket(
            502, {"Content-Type": "text/html", "X-Request-Id": "abc"}, b"<html>Bad</html>"
        )
    assert info.value.errors == []
    assert info.value.request_id == "abc"
    assert "\n" not in str(info.value)


def test_error_field_is_reported() -> None:
    payload = {"type": "error.list", "errors": [{"code": "parameter_invalid", "field": "id"}]}
    with pytest.raises(ApiError, match=r"parameter_invalid \(field id\)"):
        decipher_ticket(400, JSON, json.dumps(payload).encode())


@pytest.mark.parametrize(
    ("payload", "headers", "match"),
    [
        (b"<html>proxy</html>", {"Content-Type": "text/html"}, "expected JSON"),
        (b"{not json", JSON, "not valid JSON"),
        (b"null", JSON, "got null"),
        (b"\xff\xfe{}", JSON, "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, JSON, "not a ticket at \\$: JSON nested too deeply"),
        (b'{"id": 5}', JSON, "at \\$.id"),
        (b'{"ticket_attributes": {"n": NaN}}', JSON, "NaN is not JSON"),
        (b'{"ticket_attributes": {"n": -Infinity}}', JSON, "Infinity is not JSON"),
        (b'{"ticket_attributes": {"n": 1e999}}', JSON, "too large"),
    ],
)
def test_2xx_bodies_that_are_not_tickets(
    payload: bytes, headers: dict[str, str], match: str
) -> None:
    with pytest.raises(ResponseDecodeError, match=match) as info:
        decipher_ticket(200, headers, payload)
    assert info.value.status == 200


def test_a_number_too_large_is_quoted_by_its_first_20_characters() -> None:
    payload = b'{"ticket_attributes": {"n": 12345678901234567890123e999}}'
    with pytest.raises(ResponseDecodeError) as info:
        decipher_ticket(200, JSON, payload)
    assert "(number 12345678901234567890 is too large for a float)" in str(info.value)


def test_an_answer_deciphered_alone_names_no_request() -> None:
    with pytest.raises(ApiError) as info:
        decipher_ticket(500, {}, b"")
    assert (str(info.value), info.value.reason, info.value.path) == ("HTTP 500", "", "")


def test_a_model_without_a_type_name_is_expected_by_its_class_name() -> None:
    response = Response(200, JSON, b'{"id": [5]}')
    with pytest.raises(ResponseDecodeError, match=r"^HTTP 200: response body is not a Reference"):
        decode(response, Reference)


def test_decode_structures_leniently_when_asked() -> None:
    response = Response(200, JSON, b'{"type": "ticket", "id": "1", "open": "yes"}')
    with pytest.raises(ResponseDecodeError, match=r"at \$\.open"):
        decode(response, Ticket)
    ticket = decode(response, Ticket, lenient=True)
    assert (ticket.open, ticket.extra) == (None, {"open": "yes"})


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://localhost:8000/", True),
        ("http://127.0.0.1/", True),
        ("http://[::1]:9/", True),
        ("https://api.intercom.io", False),
        ("not a url", False),
    ],
)
def test_loopback_urls(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: resolve_base_url("xx", None),
            ValueError,
            "unknown region 'xx': use one of us, eu, au",
        ),
        (
            lambda: resolve_base_url("us", 5),  # type: ignore[arg-type]
            TypeError,
            "base_url must be a str, not int",
        ),
        (
            lambda: ticket_path(1.5),  # type: ignore[arg-type]
            InvalidTicketIdError,
            "ticket id must be a str or an int, not float",
        ),
        (
            lambda: validate_version(2.9),  # type: ignore[arg-type]
            ValueError,
            "version must be a string such as '2.9', not float",
        ),
    ],
)
def test_bad_arguments_are_refused_saying_what_they_were(
    call: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        call()
    assert str(raised.value) == message


def test_extra_headers_replace_ours_whatever_their_case() -> None:
    ours = {"User-Agent": "intercom-async", "Accept": "application/json"}
    merged = add_headers(ours, {"user-agent": "mine/1.0", "X-Trace": "1"})
    assert merged == {"Accept": "application/json", "user-agent": "mine/1.0", "X-Trace": "1"}


def test_a_retry_after_date_counts_from_the_server_s_date() -> None:
    now = time.time()
    server = now + 100.0  # the server's clock is 100 s ahead: its Retry-After date too
    headers = {
        "Date": formatdate(server, usegmt=True),
        "Retry-After": formatdate(server + 30.0, usegmt=True),
    }
    assert LimitHeaders.parse(429, headers, now).retry_after == pytest.approx(30.0, abs=1.0)


def test_a_reset_at_the_epoch_is_a_time_and_one_before_it_is_none() -> None:
    assert RateLimit.from_headers({"X-RateLimit-Reset": "0"}) == RateLimit(None, None, 0.0)
    assert RateLimit.from_headers({"X-RateLimit-Reset": "-1"}) is None


def test_decode_error_keeps_the_path() -> None:
    with pytest.raises(ResponseDecodeError) as info:
        decipher_ticket(200, JSON, b'{"ticket_parts": {"ticket_parts": [{"redacted": "no"}]}}')
    assert info.value.json_path == "$.ticket_parts.ticket_parts[0].redacted"
    assert "boolean" in str(info.value)


def test_a_skewed_server_clock_is_allowed_for_in_waits() -> None:
    now = 1_000_000.0
    server_now = now + 3600
    headers = {
        "X-RateLimit-Reset": str(int(server_now) + 5),
        "Date": format_datetime(datetime.fromtimestamp(server_now, UTC), usegmt=True),
    }
    assert 4.0 <= retry_after_seconds(headers, now) <= 5.0  # type: ignore[operator]
    headers["Date"] = format_datetime(datetime.fromtimestamp(now + 1, UTC), usegmt=True)
    # Within tolerance our clock is used: an hour away, which no server may ask for.
    assert retry_after_seconds(headers, now) == MAX_SERVER_WAIT


def test_a_retry_after_date_is_read_on_the_server_s_clock() -> None:
    now = 1_000_000.0
    server_now = now - 600  # the server's clock is ten minutes behind ours
    headers = {
        "Date": format_datetime(datetime.fromtimestamp(server_now, UTC), usegmt=True),
        "Retry-After": format_datetime(datetime.fromtimestamp(server_now + 30, UTC), usegmt=True),
    }
    assert retry_after(headers, now) == pytest.approx(29.5)  # Date is taken as mid-second
    headers["Date"] = format_datetime(datetime.fromtimestamp(now + 600, UTC), usegmt=True)
    assert retry_after(headers, now) == 0.0  # by that clock, the moment is long past


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Limit": "10", "X-RateLimit-Reset": "1717000010"}, (10, None, 1717000010.0)),
        ({"X-RateLimit-Remaining": "0"}, (None, 0, None)),
        ({"X-RateLimit-Remaining": "7.9"}, (None, 7, None)),
        ({"X-RateLimit-Limit": " 12 ", "X-RateLimit-Remaining": "-1"}, (12, None, None)),
        ({"X-RateLimit-Limit": "inf", "X-RateLimit-Remaining": "nan"}, None),
        ({"X-RateLimit-Limit": "1e300", "X-RateLimit-Reset": "-5"}, None),
        ({"X-RateLimit-Reset": "253402300800"}, None),  # the year 10000
        ({"X-RateLimit-Reset": "253402300799"}, (None, None, 253402300799.0)),
        ({"X-RateLimit-Remaining": str(2**53)}, (None, 2**53, None)),
        ({"X-RateLimit-Remaining": str(2**53 + 2)}, None),
    ],
)
def test_partial_and_odd_rate_limit_headers(
    headers: dict[str, str], expected: tuple[int | None, int | None, float | None] | None
) -> None:
    seen = RateLimit.from_headers(headers)
    if expected is None:
        assert seen is None
        return
    assert seen == RateLimit(*expected)
    assert seen.reset_at is None or seen.reset_at.year <= 9999


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", 784111777.0),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 784111777.0),
        ("Sun Nov  6 08:49:37 1994", 784111777.0),
        ("Sun, 06 Nov 1994 08:49:37 -0000", 784111777.0),
        ("Sun, 06 Nov 1994 08:49:37 +0100", 784108177.0),
        ("Mon, 01 Jan 99999999999 00:00:00 GMT", None),
        ("Mon, 01 Jan 10000 00:00:00 GMT", None),
        ("Mon, 01 Jan 2024 00:00:00 +9999", None),
        ("soon", None),
        ("", None),
        ("\udcff", None),
        (None, None),
    ],
)
def test_http_dates(value: str | None, expected: float | None) -> None:
    assert http_date(value) == expected


@given(st.dictionaries(st.sampled_from(HEADER_NAMES), st.text(max_size=40), max_size=5))
def test_no_header_value_raises_anything(headers: dict[str, str]) -> None:
    now = 1_700_000_000.0
    RateLimit.from_headers(headers)
    for wait in (retry_after(headers, now), retry_after_seconds(headers, now)):
        assert wait is None or 0 <= wait <= MAX_SERVER_WAIT
    clock_skew(headers, now)
    clock = ServerClock()
    clock.answered(http_date(headers.get("Date")), None, now, now)
    assert math.isfinite(clock.offset)
    window = Window()
    window.answered(window.take(now), LimitHeaders.parse(429, headers, now + 0.1), now + 0.1)
    window.ready_at(now + 0.2)
    with pytest.raises(ApiError):
        decipher_ticket(429, headers, b"")


@pytest.mark.parametrize("status", [300, 301, 304, 199, 100])
def test_only_2xx_is_a_ticket(status: int) -> None:
    with pytest.raises(ApiError) as info:
        decipher_ticket(status, JSON, body("reference_example.json"))
    assert info.value.status == status


@pytest.mark.parametrize("status", [200, 203, 299])
def test_any_2xx_is_a_ticket(status: int) -> None:
    assert decipher_ticket(status, JSON, body("reference_example.json")).id == "1295"


@pytest.mark.parametrize(
    "url", ["http://api.localhost:8080", "http://127.5.6.7", "http://[::1]", "http://localhost"]
)
def test_every_loopback_host_is_fine_over_plain_http(url: str) -> None:
    assert resolve_base_url("us", url) == url


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("https://example.com/APIX/", "https://example.com/APIX"),
        ("https://example.com//", "https://example.com"),
        ("https://example.com/intercom", "https://example.com/intercom"),
    ],
)
def test_base_url_loses_only_its_trailing_slashes(url: str, root: str) -> None:
    assert resolve_base_url("us", url) == root


def test_the_headers_repr_hides_only_the_token() -> None:
    text = repr(build_headers("tok_secret", "2.10"))
    assert "tok_secret" not in text
    assert "'Authorization': 'Bearer <redacted>'" in text
    assert "'Intercom-Version': '2.10'" in text
    assert f"'User-Agent': '{USER_AGENT}'" in text


def test_a_clock_off_by_exactly_the_tolerance_is_taken_to_be_ours() -> None:
    now = 1_000_000.5
    date = format_datetime(datetime.fromtimestamp(now - 2.5, UTC), usegmt=True)
    assert clock_skew({"Date": date}, now) == 0.0  # (Date is read as the middle of its second)
    date = format_datetime(datetime.fromtimestamp(now - 3.5, UTC), usegmt=True)
    assert clock_skew({"Date": date}, now) == -3.0


def test_errors_carry_the_request_they_answer() -> None:
    with pytest.raises(NotFoundError) as info:
        decipher_ticket(404, {}, b"", reason="Not Found", method="POST", path="/tickets/9")
    assert (info.value.method, info.value.path, info.value.reason) == (
        "POST",
        "/tickets/9",
        "Not Found",
    )
    error = api_error(Response(502, {}, b""))
    assert (error.method, error.path, error.reason, error.errors) == ("GET", "", "", [])


def test_a_decode_error_names_the_request_id_and_the_whole_body() -> None:
    with pytest.raises(ResponseDecodeError) as info:
        decipher_ticket(200, {"Content-Type": "application/json", "X-Request-Id": "r-9"}, b"{")
    assert info.value.request_id == "r-9"
    assert info.value.json_path == "$"


def test_an_error_list_is_read_only_from_a_json_body() -> None:
    body = json.dumps(
        {"type": "error.list", "request_id": "r1", "errors": [{"code": "not_found"}]}
    ).encode()
    assert api_error(Response(404, JSON, body)).code == "not_found"
    assert api_error(Response(404, {"Content-Type": "text/html"}, body)).errors == []
    assert (
        api_error(Response(404, {}, body)).code == "not_found"
    )  # nothing claimed: the body speaks


def test_a_retry_after_that_is_not_finite_says_nothing() -> None:
    for value in ("inf", "-inf", "nan", "1e999"):
        assert retry_after({"Retry-After": value}, 1_000.0) is None


def test_a_decode_error_keeps_the_answer_s_headers() -> None:
    headers = {"Content-Type": "text/html", "X-Request-Id": "r-1", "Server": "nginx"}
    with pytest.raises(
        ResponseDecodeError, match="expected JSON, got Content-Type 'text/html'"
    ) as info:
        decipher_ticket(200, headers, b"<html>")
    assert info.value.headers["server"] == "nginx"
    assert info.value.request_id == "r-1"


def test_a_date_without_a_zone_is_utc_wherever_we_are(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert http_date("Sun, 06 Nov 1994 08:49:37 -0000") == 784111777.0
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


# -- the length of an id (issue 16, defect 9) -------------------------------------------------


def test_an_id_of_255_characters_is_sent_and_one_of_256_is_refused() -> None:
    assert ticket_path("7" * 255) == "/tickets/" + "7" * 255
    assert ticket_path("ü" * 255) == "/tickets/" + "%C3%BC" * 255  # characters, not bytes
    with pytest.raises(InvalidTicketIdError) as info:
        ticket_path("7" * 256)
    assert str(info.value) == (
        f"ticket id is 256 characters long, past the 255 an id may have: {'7' * 40!r}..."
    )


def test_a_huge_id_is_refused_in_a_short_message() -> None:
    with pytest.raises(InvalidTicketIdError) as info:
        ticket_path("1" * 100_000)
    assert len(str(info.value)) < 300
    assert "100000 characters" in str(info.value)
    assert len(str(info.value.to_dict())) < 400
    with pytest.raises(InvalidTicketIdError) as info:
        ticket_path("\U000e0001" * 300)  # each quoted as 10 characters
    assert len(str(info.value)) < 300


@pytest.mark.parametrize(
    ("ticket_id", "ok"),
    [
        (10**255 - 1, True),  # 255 digits
        (10**255, False),  # 256 digits
        (-(10**254) + 1, True),  # a sign and 254 digits
        (-(10**254), False),  # a sign and 255 digits
        (10**5000, False),  # past what str() of an int may show
    ],
    ids=["255 digits", "256 digits", "255 with the sign", "256 with the sign", "5001 digits"],
)
def test_an_int_id_is_held_to_the_same_length(ticket_id: int, ok: bool) -> None:
    if ok:
        assert ticket_path(ticket_id) == f"/tickets/{ticket_id}"
        return
    with pytest.raises(InvalidTicketIdError) as info:
        ticket_path(ticket_id)
    assert str(info.value) == "ticket id is an int of more than 255 characters"


def test_errors_quote_a_long_path_cut_short() -> None:
    path = "/tickets/" + "%C3%BC" * 255  # the longest path an id can make: 1,539 characters
    error = decipher_error(404, path)
    message = str(error)
    assert len(message) < 300
    assert message == f"GET {path[:64]}...: HTTP 404 Not Found: not_found: Ticket Not Found"
    assert error.path == path  # the attribute keeps it whole
    assert error.to_dict()["message"] == message
    transport = TransportError("timed out", path=path)
    assert str(transport) == f"GET {path[:64]}...: timed out"
    assert transport.path == path


def test_an_answer_cannot_make_an_error_message_long() -> None:
    body = {
        "type": "error.list",
        "request_id": "r" * 5_000,
        "errors": [{"code": "c" * 5_000, "message": "m" * 5_000, "field": "f" * 5_000}] * 50,
    }
    error = api_error(
        Response(400, JSON, json.dumps(body).encode(), reason="R" * 5_000, path="/tickets/1")
    )
    assert len(str(error)) < 300
    assert str(error).startswith("GET /tickets/1: HTTP 400 RRRR")
    decode = ResponseDecodeError("x" * 5_000, status=200, json_path="$." + "k" * 5_000)
    assert len(str(decode)) < 300
    assert len(str(TransportError("InvalidURL: " + "u" * 5_000, path="/tickets/1"))) < 300


def decipher_error(status: int, path: str) -> ApiError:
    body = {"type": "error.list", "errors": [{"code": "not_found", "message": "Ticket Not Found"}]}
    with pytest.raises(ApiError) as info:
        decipher_ticket(status, JSON, json.dumps(body).encode(), reason="Not Found", path=path)
    return info.value


@pytest.mark.parametrize(
    ("body", "content_type", "json_path"),
    [
        (b'{"type": "ticket.list", "tickets": 5}', "application/json", "$.tickets"),
        (b"<html>", "text/html", "$"),
        (b"{", "application/json", "$"),
    ],
)
def test_a_decode_failure_names_what_the_body_should_have_been(
    body: bytes, content_type: str, json_path: str
) -> None:
    from intercom_async import TicketList
    from intercom_async._protocol import Response, decode

    answer = Response(200, {"Content-Type": content_type}, body, method="POST", path="/x")
    with pytest.raises(ResponseDecodeError) as info:
        decode(answer, TicketList)
    assert info.value.expected == "a ticket.list"
    assert info.value.json_path == json_path
    assert f"HTTP 200: response body is not a ticket.list at {json_path}: " in str(info.value)
    with pytest.raises(ResponseDecodeError) as info:
        decode(Response(200, {"Content-Type": content_type}, body), Ticket)
    assert info.value.expected == "a ticket"
    assert "response body is not a ticket at " in str(info.value)

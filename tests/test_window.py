"""The pacer's decisions on their own (``Window``, ``ServerClock``): plain numbers, no I/O."""

from __future__ import annotations

import math
from email.utils import formatdate

import pytest

from intercom_async._ratelimit import NO_WORD_HOLD, Window
from intercom_async._skew import FIRST_MARGIN, HORIZON, ServerClock

T = 1_700_000_000.0  # our clock, a whole second


def limits(limit: int | None, remaining: int | None, reset: float | None) -> dict[str, str]:
    headers = {}
    if limit is not None:
        headers["X-RateLimit-Limit"] = str(limit)
    if remaining is not None:
        headers["X-RateLimit-Remaining"] = str(remaining)
    if reset is not None:
        headers["X-RateLimit-Reset"] = str(int(reset)) if reset == int(reset) else f"{reset:.3f}"
    return headers


def dated(server_time: float, **headers: str) -> dict[str, str]:
    return {"Date": formatdate(server_time, usegmt=True), **headers}


def taken(window: Window, n: int, now: float = T) -> None:
    for _ in range(n):
        assert window.ready_at(now) == now
        window.take(now)


# -- budgets -----------------------------------------------------------------------------------


def test_nothing_known_nothing_held() -> None:
    window = Window()
    taken(window, 50)
    assert window.in_flight == 50
    assert window.budget is None
    assert window.last is None


def test_the_budget_is_what_remained_less_what_is_in_flight() -> None:
    window = Window()
    taken(window, 4)
    window.answered(200, limits(10, 5, T + 10), T, T + 0.1)  # 3 others still in flight
    assert window.in_flight == 3
    assert window.budget == 2
    taken(window, 2, T + 0.1)
    assert window.budget == 0
    assert window.ready_at(T + 0.2) == T + 10  # held until the reset
    assert window.last is not None and window.last.remaining == 5


def test_requests_beyond_the_window_are_an_overdraft_paid_back_first() -> None:
    window = Window()
    taken(window, 5)
    window.answered(200, limits(10, 1, T + 10), T, T + 0.1)  # 4 in flight for 1 unit
    assert (window.budget, window.overdraft) == (0, 3)
    window.unanswered(sent=False)  # one was never sent: it pays back the overdraft
    assert (window.budget, window.overdraft) == (0, 2)
    window.unanswered(sent=True)  # one may have been counted: nothing comes back
    assert (window.budget, window.overdraft) == (0, 2)
    window.unanswered(sent=False)
    window.unanswered(sent=False)
    assert (window.budget, window.overdraft, window.in_flight) == (0, 0, 0)
    assert window.ready_at(T + 1) == T + 10


def test_a_withdrawn_request_gives_its_unit_back() -> None:
    window = Window()
    taken(window, 1)
    window.answered(200, limits(10, 2, T + 10), T, T + 0.1)
    taken(window, 2, T + 0.1)
    assert window.budget == 0
    window.unanswered(sent=False)  # cancelled before it was sent
    assert window.budget == 1
    assert window.ready_at(T + 0.2) == T + 0.2


def test_the_tighter_word_on_a_window_holds() -> None:
    window = Window()
    taken(window, 3)
    window.answered(200, limits(10, 6, T + 10), T, T + 0.1)  # 2 in flight: 4 left
    assert window.budget == 4
    window.answered(200, limits(10, 9, T + 10), T, T + 0.1)  # a stale count: ignored
    assert window.budget == 4
    window.answered(200, limits(10, 2, T + 10), T, T + 0.1)  # another client's share went
    assert window.budget == 2


def test_a_newer_window_replaces_the_budget_and_an_older_one_is_ignored() -> None:
    window = Window()
    taken(window, 3)
    window.answered(200, limits(10, 0, T + 10), T, T + 1)
    assert window.budget == 0
    window.answered(200, limits(10, 7, T + 20), T, T + 12)  # the next window, 1 in flight
    assert window.budget == 6
    assert window.end == T + 20
    window.answered(200, limits(10, 0, T + 10), T, T + 13)  # late news of the old one
    assert window.budget == 6
    assert window.end == T + 20


# -- resets ------------------------------------------------------------------------------------


def test_at_the_reset_one_request_looks_and_its_answer_opens_the_window() -> None:
    window = Window()
    taken(window, 1)
    window.answered(200, limits(5, 0, T + 2), T, T + 0.1)
    assert window.ready_at(T + 1) == T + 2
    taken(window, 1, T + 2)  # the look
    assert window.ready_at(T + 2) is None  # the others wait for what it learns, not a herd
    window.answered(200, limits(5, 4, T + 4), T + 2, T + 2.1)
    assert window.budget == 4
    taken(window, 4, T + 2.1)
    assert window.ready_at(T + 2.2) == T + 4


def test_a_window_not_spent_at_its_reset_keeps_what_it_had() -> None:
    window = Window()
    taken(window, 1)
    window.answered(200, limits(10, 3, T + 2), T, T + 0.1)
    taken(window, 1, T + 0.2)
    assert window.budget == 2
    assert window.ready_at(T + 3) == T + 3
    assert window.budget == 2  # rolled over: what was left may go while we look


def test_a_reset_with_requests_in_flight_counts_them_against_the_new_window() -> None:
    window = Window()
    taken(window, 1)
    window.answered(200, limits(4, 0, T + 2), T, T + 0.1)
    taken(window, 1, T + 2)
    window.answered(200, limits(4, 3, T + 4), T + 2, T + 2.1)
    taken(window, 3, T + 2.1)
    window.answered(200, limits(4, 2, T + 4), T + 2.1, T + 2.2)  # 2 of the 3 still out
    assert window.budget == 0
    window.answered(200, limits(4, 3, T + 6), T + 2.1, T + 4.2)  # next window, 1 still out
    assert window.budget == 2


def test_answers_without_rate_limit_headers_give_the_unit_back_while_looking() -> None:
    window = Window()
    taken(window, 1)
    window.answered(200, limits(1, 0, T + 1), T, T + 0.1)
    taken(window, 1, T + 1)  # the look
    window.answered(502, {}, T + 1, T + 1.1)  # a proxy's answer: no word of the window
    assert window.ready_at(T + 1.1) == T + 1.1
    taken(window, 1, T + 1.1)
    window.unanswered(sent=True)  # a timeout: no word either
    assert window.ready_at(T + 1.2) == T + 1.2


def test_an_answer_without_headers_gives_nothing_back_in_a_known_window() -> None:
    window = Window()
    taken(window, 2)
    window.answered(200, limits(10, 1, T + 10), T, T + 0.1)
    window.answered(502, {}, T, T + 0.2)
    assert window.budget == 0


@pytest.mark.parametrize(
    "headers",
    [
        limits(10, None, T + 10),  # Limit and Reset without Remaining
        limits(10, 0, None),  # Remaining without Reset
        limits(None, None, T + 10),
        {"X-RateLimit-Remaining": "nan", "X-RateLimit-Reset": "inf"},
    ],
)
def test_partial_headers_are_no_word_of_the_window(headers: dict[str, str]) -> None:
    window = Window()
    taken(window, 1)
    window.answered(200, headers, T, T + 0.1)
    assert window.budget is None
    assert window.ready_at(T + 0.1) == T + 0.1


# -- 429s ----------------------------------------------------------------------------------------


def test_a_429_spends_the_window_until_its_reset() -> None:
    window = Window()
    taken(window, 1)
    window.answered(200, limits(10, 5, T + 10), T, T + 0.1)
    taken(window, 1, T + 0.1)
    window.answered(429, limits(10, 3, T + 10), T + 0.1, T + 0.2)  # whatever it says remains
    assert window.budget == 0
    assert window.ready_at(T + 0.3) == T + 10


def test_a_429_holds_until_the_later_of_retry_after_and_reset() -> None:
    window = Window()
    taken(window, 1)
    window.answered(429, {**limits(10, 0, T + 2), "Retry-After": "30"}, T, T + 0.5)
    assert window.ready_at(T + 1) == T + 30.5
    assert window.ready_at(T + 5) == T + 30.5  # the reset passed; Retry-After still holds


def test_a_429_with_retry_after_only_holds_then_looks() -> None:
    window = Window()
    taken(window, 1)
    window.answered(429, {"Retry-After": "3"}, T, T + 1)
    assert window.ready_at(T + 2) == T + 4
    taken(window, 1, T + 4)  # one goes to look
    assert window.ready_at(T + 4) is None


def test_a_429_that_says_nothing_holds_for_a_moment_then_looks() -> None:
    window = Window()
    taken(window, 2)
    window.answered(429, {}, T, T + 1)
    assert window.ready_at(T + 1) is None  # one is in flight: wait for its word
    window.unanswered(sent=True)
    assert window.ready_at(T + 1) == T + 1 + NO_WORD_HOLD
    taken(window, 1, T + 1 + NO_WORD_HOLD)
    assert window.ready_at(T + 2 + NO_WORD_HOLD) is None


# -- clocks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-1.5, -0.3, 0.0, 0.4, 3600.0])
def test_the_reset_is_waited_for_on_the_server_s_clock(offset: float) -> None:
    window = Window()
    taken(window, 1)
    server = T + 0.25 + offset
    window.answered(200, dated(server, **limits(5, 0, math.ceil(server) + 5)), T, T + 0.5)
    at = window.ready_at(T + 0.5)
    assert at is not None
    true_reset = math.ceil(server) + 5 - offset  # on our clock
    # Never early; late at most by Date's precision (a second) and the answer's round trip.
    assert true_reset <= at <= true_reset + 1.0 + 0.5


def test_a_window_taken_to_be_over_too_early_stays_spent_and_the_clock_learns() -> None:
    # A Date a second ahead of the clock the windows run on: the pacer looks too early.
    window = Window()
    taken(window, 1)
    window.answered(200, dated(T + 1.2, **limits(5, 0, T + 2)), T, T + 0.1)
    assert window.ready_at(T + 0.2) == pytest.approx(T + 1.1)  # by that Date: early
    taken(window, 1, T + 1.1)
    window.answered(429, dated(T + 2.2, **limits(5, 0, T + 2)), T + 1.1, T + 1.2)
    assert window.end == T + 2  # the window stands
    at = window.ready_at(T + 1.2)
    assert at == pytest.approx(T + 1.1 + FIRST_MARGIN)  # the clock learnt: a margin below
    taken(window, 1, at)
    window.answered(429, dated(T + 2.3, **limits(5, 0, T + 2)), at, at + 0.1)
    again = window.ready_at(at + 0.1)
    assert again == pytest.approx(at + 2 * FIRST_MARGIN)  # the margin doubles


def test_an_answer_sent_before_the_reset_says_nothing_of_the_next_window() -> None:
    window = Window()
    taken(window, 2)
    window.answered(200, limits(5, 1, T + 1), T, T + 0.1)
    assert window.ready_at(T + 1) == T + 1  # rolled over: look
    window.answered(200, limits(5, 0, T + 1), T, T + 1.1)  # sent long before: no news
    assert window.end is None
    assert window.budget == 1


def test_the_clock_trusts_ours_until_an_answer_says_otherwise() -> None:
    clock = ServerClock()
    assert clock.offset == 0.0
    clock.answered({}, T + 10, T, T + 0.1)  # the reset bounds it from above only
    assert clock.offset == 0.0
    clock.answered({}, T + 10, T + 10.5, T + 10.6)  # a window not over 0.5 s after its reset
    assert clock.offset == -0.5


def test_the_clock_keeps_the_tightest_lower_bound() -> None:
    clock = ServerClock()
    clock.answered({"Date": formatdate(T + 100, usegmt=True)}, None, T, T + 0.3)
    assert clock.offset == pytest.approx(99.7)
    clock.answered({"Date": formatdate(T + 101, usegmt=True)}, None, T, T + 1.1)
    assert clock.offset == pytest.approx(99.9)
    clock.answered({"Date": formatdate(T + 101, usegmt=True)}, None, T, T + 1.5)
    assert clock.offset == pytest.approx(99.9)  # a looser bound changes nothing
    assert clock.local(T + 200) == pytest.approx(T + 100.1)


def test_bounds_are_forgotten_after_the_horizon() -> None:
    clock = ServerClock()
    clock.answered({"Date": formatdate(T + 100, usegmt=True)}, None, T, T)
    later = T + HORIZON + 1
    clock.answered({"Date": formatdate(later - 5, usegmt=True)}, None, later, later)
    assert clock.offset == pytest.approx(-5)  # the clock was stepped: the new word counts


def test_a_newer_lower_bound_beyond_a_stale_upper_one_wins() -> None:
    clock = ServerClock()
    clock.answered({}, T + 10, T, T)  # offset < 10
    clock.answered({"Date": formatdate(T + 30, usegmt=True)}, None, T + 1, T + 1)
    assert clock.offset == pytest.approx(29)


def test_the_local_cap_spaces_starts_by_its_interval() -> None:
    window = Window(interval=0.25)
    assert window.ready_at(T) == T
    window.take(T)
    assert window.ready_at(T) == T + 0.25
    window.take(T + 0.25)
    assert window.ready_at(T + 0.3) == T + 0.5
    window.take(T + 2)  # a late start spaces the next from itself
    assert window.ready_at(T + 2) == T + 2.25
    assert window.opens_at(T + 2) == T + 2  # the cap is not the window

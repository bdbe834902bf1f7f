"""The pacer's decisions on their own (``Window``, ``ServerClock``): plain numbers, no I/O."""

from __future__ import annotations

import math
from email.utils import formatdate

import pytest

from intercom_async._limits import MAX_SERVER_WAIT, LimitHeaders
from intercom_async._ratelimit import NO_WORD_HOLD, Turn, Window

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


def taken(window: Window, n: int, now: float = T) -> list[Turn]:
    turns = []
    for _ in range(n):
        assert window.ready_at(now) == now
        turns.append(window.take(now))
    return turns


def answer(
    window: Window, turn: Turn, status: int, headers: dict[str, str], received: float
) -> None:
    window.answered(turn, LimitHeaders.parse(status, headers, received), received)


# -- budgets -----------------------------------------------------------------------------------


def test_nothing_known_nothing_held() -> None:
    window = Window()
    taken(window, 50)
    assert window.in_flight == 50
    assert window.budget is None
    assert window.last is None


def test_an_answer_that_agrees_with_the_budget_keeps_its_units() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, limits(10, 5, T + 10), T + 0.1)
    early, late = taken(window, 2)
    answer(window, late, 200, limits(10, 4, T + 10), T + 0.2)  # 4 left, less `early`: 3, as held
    assert window.budget == 3
    window.unanswered(early, sent=False)  # never sent: still a unit of this same budget
    assert window.budget == 4


def test_the_budget_is_what_remained_less_what_is_in_flight() -> None:
    window = Window()
    first, *_ = taken(window, 4)
    answer(window, first, 200, limits(10, 5, T + 10), T + 0.1)  # 3 others still in flight
    assert window.in_flight == 3
    assert window.budget == 2
    taken(window, 2, T + 0.1)
    assert window.budget == 0
    assert window.ready_at(T + 0.2) == T + 10  # held until the reset
    assert window.last is not None and window.last.remaining == 5


def test_a_request_never_sent_gives_its_unit_back() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, limits(10, 2, T + 10), T + 0.1)
    turns = taken(window, 2, T + 0.1)
    assert window.budget == 0
    window.unanswered(turns[0], sent=False)  # cancelled while it waited for a connection
    assert window.budget == 1
    assert window.ready_at(T + 0.2) == T + 0.2
    window.unanswered(turns[1], sent=True)  # a timeout: the server may have counted it
    assert window.budget == 1
    assert window.in_flight == 0


def test_only_a_unit_of_the_budget_in_force_goes_back() -> None:
    window = Window()
    turns = taken(window, 5)  # before anything is known
    answer(window, turns[0], 200, limits(10, 1, T + 10), T + 0.1)  # 4 in flight for 1 unit
    assert window.budget == 0
    for turn in turns[1:]:  # counted against this budget already: nothing comes back
        window.unanswered(turn, sent=False)
    assert (window.budget, window.in_flight) == (0, 0)
    assert window.ready_at(T + 1) == T + 10


def test_the_tighter_word_on_a_window_holds() -> None:
    window = Window()
    turns = taken(window, 4)
    answer(window, turns[0], 200, limits(10, 6, T + 10), T + 0.1)  # 3 in flight: 3 left
    assert window.budget == 3
    answer(window, turns[1], 200, limits(10, 9, T + 10), T + 0.1)  # a stale count: ignored
    assert window.budget == 3
    answer(window, turns[2], 200, limits(10, 2, T + 10), T + 0.1)  # another client's share
    assert window.budget == 1


def test_a_newer_window_replaces_the_budget_and_an_older_one_is_ignored() -> None:
    window = Window()
    turns = taken(window, 3)
    answer(window, turns[0], 200, limits(10, 0, T + 10), T + 1)
    assert window.budget == 0
    answer(window, turns[1], 200, limits(10, 7, T + 20), T + 12)  # the next window, 1 out
    assert window.budget == 6
    assert window.end == T + 20
    answer(window, turns[2], 200, limits(10, 0, T + 10), T + 13)  # late news of the old one
    assert window.budget == 6
    assert window.end == T + 20


# -- resets ------------------------------------------------------------------------------------


def test_at_the_reset_one_request_looks_and_its_answer_opens_the_window() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, limits(5, 0, T + 2), T + 0.1)
    assert window.ready_at(T + 1) == T + 2
    [look] = taken(window, 1, T + 2)
    assert window.ready_at(T + 2) is None  # the others wait for what it learns, not a herd
    answer(window, look, 200, limits(5, 4, T + 4), T + 2.1)
    assert window.budget == 4
    taken(window, 4, T + 2.1)
    assert window.ready_at(T + 2.2) == T + 4


def test_a_window_not_spent_at_its_reset_keeps_what_it_had() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, limits(10, 3, T + 2), T + 0.1)
    taken(window, 1, T + 0.2)
    assert window.budget == 2
    assert window.ready_at(T + 3) == T + 3
    assert window.budget == 2  # taken to be over: what was left may go while we look


def test_a_reset_with_requests_in_flight_counts_them_against_the_new_window() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, limits(4, 0, T + 2), T + 0.1)
    [look] = taken(window, 1, T + 2)
    answer(window, look, 200, limits(4, 3, T + 4), T + 2.1)
    turns = taken(window, 3, T + 2.1)
    answer(window, turns[0], 200, limits(4, 2, T + 4), T + 2.2)  # 2 of the 3 still out
    assert window.budget == 0
    answer(window, turns[1], 200, limits(4, 3, T + 6), T + 4.2)  # next window, 1 still out
    assert window.budget == 2


def test_answers_without_rate_limit_headers_give_the_unit_back_while_looking() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, limits(1, 0, T + 1), T + 0.1)
    [look] = taken(window, 1, T + 1)
    answer(window, look, 502, {}, T + 1.1)  # a proxy's answer: no word of the window
    assert window.ready_at(T + 1.1) == T + 1.1
    [look] = taken(window, 1, T + 1.1)
    window.unanswered(look, sent=True)  # a timeout: no word either
    assert window.ready_at(T + 1.2) == T + 1.2


def test_an_answer_without_headers_gives_nothing_back_in_a_known_window() -> None:
    window = Window()
    turns = taken(window, 2)
    answer(window, turns[0], 200, limits(10, 2, T + 10), T + 0.1)  # 1 in flight: 1 left
    [more] = taken(window, 1, T + 0.1)
    answer(window, more, 502, {}, T + 0.2)
    assert window.budget == 0


def test_a_request_from_before_the_reset_gives_no_extra_look() -> None:
    window = Window()
    turns = taken(window, 3)
    answer(window, turns[0], 200, limits(1, 0, T + 1), T + 0.1)
    taken(window, 1, T + 1)  # the look
    window.unanswered(turns[1], sent=True)  # an old request timed out: no second look
    answer(window, turns[2], 502, {}, T + 1.1)  # nor for an old one's empty answer
    assert window.ready_at(T + 1.1) is None


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
    [first] = taken(window, 1)
    answer(window, first, 200, headers, T + 0.1)
    assert window.budget is None
    assert window.ready_at(T + 0.1) == T + 0.1


# -- 429s ----------------------------------------------------------------------------------------


def test_a_429_spends_the_window_until_its_reset() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, limits(10, 5, T + 10), T + 0.1)
    [second] = taken(window, 1, T + 0.1)
    answer(window, second, 429, limits(10, 3, T + 10), T + 0.2)  # whatever it says remains
    assert window.budget == 0
    assert window.ready_at(T + 0.3) == T + 10


def test_a_429_holds_until_the_later_of_retry_after_and_reset() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 429, {**limits(10, 0, T + 2), "Retry-After": "30"}, T + 0.5)
    assert window.ready_at(T + 1) == T + 30.5
    assert window.ready_at(T + 5) == T + 30.5  # the reset passed; Retry-After still holds


def test_a_429_with_retry_after_only_holds_then_looks() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 429, {"Retry-After": "3"}, T + 1)
    assert window.ready_at(T + 2) == T + 4
    taken(window, 1, T + 4)  # one goes to look
    assert window.ready_at(T + 4) is None


def test_a_429_that_says_nothing_holds_for_a_moment_then_looks() -> None:
    window = Window()
    turns = taken(window, 2)
    answer(window, turns[0], 429, {}, T + 1)
    assert window.ready_at(T + 1) is None  # one is in flight: wait for its word
    window.unanswered(turns[1], sent=True)
    assert window.ready_at(T + 1) == T + 1 + NO_WORD_HOLD
    taken(window, 1, T + 1 + NO_WORD_HOLD)
    assert window.ready_at(T + 2 + NO_WORD_HOLD) is None


# -- clocks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-3600.0, -5.0, 5.0, 3600.0])
def test_a_far_off_server_clock_is_allowed_for(offset: float) -> None:
    window = Window()
    [first] = taken(window, 1)
    server = T + 0.25 + offset
    answer(window, first, 200, dated(server, **limits(5, 0, math.ceil(server) + 5)), T + 0.5)
    at = window.ready_at(T + 0.5)
    assert at is not None
    true_reset = math.ceil(server) + 5 - offset  # on our clock
    # Never early; late at most by Date's precision (a second) and the answer's round trip.
    assert true_reset <= at <= true_reset + 1.0 + 0.5


@pytest.mark.parametrize("offset", [-0.3, 0.0, 0.4])
def test_a_server_clock_within_date_s_precision_is_taken_to_be_ours(offset: float) -> None:
    window = Window()
    [first] = taken(window, 1)
    server = T + 0.5 + offset  # its Date says T: the server's clock is within [T-0.5, T+1)
    answer(window, first, 200, dated(server, **limits(5, 0, T + 5)), T + 0.5)
    assert window.ready_at(T + 0.5) == T + 5


def test_a_window_taken_to_be_over_too_early_stays_spent_and_the_clock_learns() -> None:
    # The server's clock is 0.3 s behind ours: too little for its Date to show at first.
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, dated(T + 0.2, **limits(5, 0, T + 2)), T + 0.5)
    assert window.ready_at(T + 1) == T + 2  # by our clock
    [look] = taken(window, 1, T + 2)  # the look goes, and the server still counts the old window
    answer(window, look, 429, dated(T + 1.7, **limits(5, 0, T + 2)), T + 2.1)
    assert window.end == T + 2  # the window stands
    assert window.budget == 0
    at = window.ready_at(T + 2.1)  # the clock learnt
    assert at is not None
    assert T + 2 < at <= T + 3.1
    [look] = taken(window, 1, at)  # on time, this time: the next window's word
    answer(window, look, 200, dated(T + 3, **limits(5, 4, T + 3)), at + 0.1)
    assert window.end == T + 3
    assert window.budget == 4


def test_an_answer_sent_before_the_reset_says_nothing_of_the_next_window() -> None:
    window = Window()
    turns = taken(window, 2)
    answer(window, turns[0], 200, limits(5, 1, T + 1), T + 0.1)
    assert window.ready_at(T + 1) == T + 1  # taken to be over: look
    answer(window, turns[1], 200, limits(5, 0, T + 1), T + 1.1)  # sent long before: no news
    assert window.end is None
    assert window.budget == 1


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


def test_a_refund_adds_to_the_budget_it_came_from() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, limits(10, 6, T + 10), T + 0.1)
    turns = taken(window, 2, T + 0.1)
    assert window.budget == 4
    window.unanswered(turns[0], sent=False)
    assert window.budget == 5
    answer(window, turns[1], 200, limits(10, 6, T + 10), T + 0.2)  # the same word again
    assert window.budget == 5  # no news: the budget, and its units, stand
    [more] = taken(window, 1, T + 0.2)
    answer(window, more, 200, limits(10, 3, T + 10), T + 0.3)  # a tighter word: a new budget
    assert window.budget == 3


def test_a_unit_goes_back_only_to_its_own_budget() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, limits(10, 5, T + 1), T + 0.1)
    [old] = taken(window, 1, T + 0.1)
    [look] = taken(window, 1, T + 1)  # the window rolled: a budget of its own
    answer(window, look, 200, limits(10, 8, T + 2), T + 1.1)  # and a new window's
    assert window.budget == 7  # 8 left, less the old one still out
    window.unanswered(old, sent=False)  # from two budgets ago: nothing comes back
    assert window.budget == 7


def test_empty_answers_give_back_what_is_left_while_looking() -> None:
    window = Window()
    turns = taken(window, 2)
    answer(window, turns[0], 200, limits(10, 5, T + 1), T + 0.1)  # 4 left
    assert window.ready_at(T + 1) == T + 1  # over: what was left may go, while we look
    [look] = taken(window, 1, T + 1)
    assert window.budget == 3
    answer(window, look, 502, {}, T + 1.1)  # no word: its unit comes back
    assert window.budget == 4


def test_a_retry_after_date_holds_until_then() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 429, {"Retry-After": formatdate(T + 30, usegmt=True)}, T + 1)
    assert window.ready_at(T + 2) == T + 30


# -- answers not to be believed ------------------------------------------------------------------


def test_a_reset_a_day_away_holds_no_longer_than_the_cap() -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 200, dated(T, **limits(10, 0, T + 86_400)), T + 0.5)
    assert window.end == T + 0.5 + MAX_SERVER_WAIT
    assert window.ready_at(T + 1) == T + 0.5 + MAX_SERVER_WAIT
    assert window.last is not None and window.last.reset == T + 86_400  # as the server said


def test_a_reset_a_day_away_is_capped_on_the_server_s_clock() -> None:
    window = Window()
    [first] = taken(window, 1)
    server = T + 3600  # an hour ahead of ours
    answer(window, first, 200, dated(server, **limits(10, 0, server + 86_400)), T + 0.5)
    assert window.ready_at(T + 1) == pytest.approx(T + 0.5 + MAX_SERVER_WAIT)


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "1e15"},
        {"Retry-After": "31536000", **limits(10, 0, T + 5)},
        limits(10, 0, T + 86_400),
    ],
)
def test_a_429_holds_no_longer_than_the_cap(headers: dict[str, str]) -> None:
    window = Window()
    [first] = taken(window, 1)
    answer(window, first, 429, headers, T + 1)
    assert window.ready_at(T + 2) == T + 1 + MAX_SERVER_WAIT


def test_a_server_that_always_says_a_day_teaches_the_clock_nothing() -> None:
    window = Window()
    for n in range(4):
        now = T + n
        [turn] = taken(window, 1, now)
        answer(window, turn, 200, dated(now, **limits(10, 5, T + 86_400)), now + 0.1)
        assert window.clock.offset == 0.0
        assert window.end == now + 0.1 + MAX_SERVER_WAIT
    assert window.budget == 5


def test_one_stale_answer_neither_moves_the_clock_nor_holds_the_window() -> None:
    window = Window()
    turns = taken(window, 2)
    answer(window, turns[0], 200, dated(T, **limits(10, 8, T + 10)), T + 0.2)  # in step
    assert window.budget == 7
    # A replayed (or cached) answer: its window ended five minutes ago.
    answer(window, turns[1], 200, dated(T, **limits(10, 9, T - 290)), T + 0.3)
    assert window.clock.offset == 0.0
    assert (window.end, window.budget) == (T + 10, 7)
    taken(window, 7, T + 0.4)
    assert window.ready_at(T + 0.5) == T + 10  # not five minutes later

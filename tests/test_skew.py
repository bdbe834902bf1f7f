"""``ServerClock``: the offset between the server's clock and ours, from bounds its answers set."""

from __future__ import annotations

import math
from email.utils import formatdate

import pytest

from intercom_async._limits import http_date
from intercom_async._skew import FIRST_REACH, HORIZON, MAX_REACH, PRECISION, ServerClock

T = 1_700_000_000.0


def date(server_time: float) -> float | None:
    """The ``Date`` of an answer made at ``server_time``, as ``LimitHeaders`` parses it."""
    return http_date(formatdate(server_time, usegmt=True))


def test_with_nothing_known_our_clock_is_trusted() -> None:
    clock = ServerClock()
    assert clock.offset == 0.0
    assert clock.local(T + 10) == T + 10


def test_bounds_that_allow_our_clock_keep_it() -> None:
    clock = ServerClock()
    clock.answered(date(T + 0.9), T + 10, T, T + 0.5)  # offset in [-0.5, 10)
    assert clock.offset == 0.0


def test_a_server_ahead_is_reached_for_past_the_lower_bound() -> None:
    clock = ServerClock()
    clock.answered(date(T + 100.4), None, T, T + 0.3)  # offset >= 99.7
    assert clock.offset == pytest.approx(99.7 + FIRST_REACH)
    clock.rolled(T + 100, T + 0.2)  # a newer window came by then: offset >= 99.8
    assert clock.offset == pytest.approx(99.8 + 2 * FIRST_REACH)
    clock.rolled(T + 100, T + 0.2)
    assert clock.offset == pytest.approx(99.8 + 4 * FIRST_REACH)  # the reach doubles


def test_the_reach_stops_halfway_to_the_upper_bound() -> None:
    clock = ServerClock()
    clock.answered(date(T + 100.4), T + 100.06, T, T + 0.3)  # 99.7 <= offset < 100.06
    assert clock.offset == pytest.approx(99.7 + FIRST_REACH)
    clock.rolled(T + 100, T + 0.3)
    clock.rolled(T + 100, T + 0.3)  # reach 4x, but half the gap is less
    assert clock.offset == pytest.approx((99.7 + 100.06) / 2)


def test_an_early_look_drops_the_reach_and_the_next_goes_by_the_lower_bound() -> None:
    clock = ServerClock()
    clock.answered(date(T + 100.4), None, T, T + 0.3)
    clock.rolled(T + 100, T + 0.3)
    clock.rolled(T + 100, T + 0.3)
    clock.answered(None, T + 100, T + 0.1, T + 0.35)  # sent at 0.1, that window still ran
    clock.early()
    assert clock.offset == pytest.approx(99.7)  # at most 99.9: go by the lower bound
    clock.rolled(T + 100, T + 0.4)  # on time; and the reach starts again, within the bounds
    assert clock.offset == pytest.approx(99.7 + FIRST_REACH)


def test_bounds_within_the_precision_go_by_the_lower() -> None:
    clock = ServerClock()
    clock.answered(date(T + 100.4), T + 99.7 + PRECISION - 0.01, T, T + 0.3)
    assert clock.offset == pytest.approx(99.7)


def test_a_window_still_running_after_its_reset_puts_the_server_behind() -> None:
    clock = ServerClock()
    clock.answered(None, T + 10, T + 10.5, T + 10.6)  # no Date: only the upper bound
    assert clock.offset == pytest.approx(-0.5 - FIRST_REACH)
    clock.early()  # still early: reach further down
    assert clock.offset == pytest.approx(-0.5 - 2 * FIRST_REACH)
    clock.rolled(T + 10, T + 10.7)  # and the next window came by 10.7
    assert clock.offset == pytest.approx(-0.7 + FIRST_REACH * 2)


def test_the_tightest_lower_bound_is_kept() -> None:
    clock = ServerClock()
    clock.answered(date(T + 100), None, T, T + 0.3)
    clock.answered(date(T + 101), None, T, T + 1.1)
    clock.answered(date(T + 101), None, T, T + 1.5)  # a looser bound changes nothing
    assert clock.offset == pytest.approx(99.9 + FIRST_REACH)
    assert clock.local(T + 200) == pytest.approx(T + 100.1 - FIRST_REACH)


def test_a_date_proved_wrong_by_the_window_is_ignored_for_a_while() -> None:
    clock = ServerClock()
    clock.answered(date(T + 5), None, T, T)  # the Date says 5 s ahead ...
    clock.answered(None, T + 1, T + 2, T + 2)  # ... but a window ending at T+1 still ran at T+2
    assert clock.offset == pytest.approx(5 + FIRST_REACH)  # one word against it: in doubt
    clock.answered(None, T + 1, T + 2.5, T + 2.5)  # and at T+2.5: said again
    assert clock.offset == pytest.approx(-1.5 - FIRST_REACH)
    clock.answered(date(T + 8), None, T + 3, T + 3)  # the same lying Date: ignored,
    clock.answered(date(T + 8.5), None, T + 3.5, T + 3.5)  # however often it is said
    assert clock.offset == pytest.approx(-1.5 - FIRST_REACH)
    later = T + 3 + HORIZON + 1
    clock.answered(date(later + 5), None, later, later)  # believed again, and nothing contradicts
    assert clock.offset == pytest.approx(5 + FIRST_REACH)


def test_a_word_between_two_that_contradict_the_bounds_clears_the_doubt() -> None:
    clock = ServerClock()
    clock.answered(None, T + 10, T, T)  # offset < 10
    clock.answered(date(T + 30), None, T + 1, T + 1)  # offset >= 29: held in doubt
    clock.answered(date(T + 2), None, T + 2, T + 2)  # offset >= 0: agrees, and the doubt goes
    clock.answered(date(T + 33), None, T + 3, T + 3)  # >= 30 again: a first word again, in doubt
    assert 0.0 <= clock.offset < 10


def test_a_newer_lower_bound_beyond_a_stale_upper_one_wins() -> None:
    clock = ServerClock()
    clock.answered(None, T + 10, T, T)  # offset < 10
    clock.answered(date(T + 30), None, T + 1, T + 1)  # the clock was stepped: offset >= 29 ...
    assert clock.offset == 0.0  # ... says one answer, against the others: held in doubt
    clock.answered(date(T + 31), None, T + 2, T + 2)  # said again
    assert clock.offset == pytest.approx(29 + FIRST_REACH)


@pytest.mark.parametrize("side", ["lower", "upper"])
def test_bounds_are_forgotten_after_the_horizon(side: str) -> None:
    clock = ServerClock()
    if side == "lower":
        clock.answered(date(T + 100), None, T, T)
    else:
        clock.answered(None, T - 10, T, T)
    assert clock.offset != 0.0
    later = T + HORIZON + 1
    clock.answered(None, None, later, later)
    assert clock.offset == 0.0


def test_unusable_dates_teach_nothing() -> None:
    clock = ServerClock()
    for value in ["yesterday", "Mon, 01 Jan 99999999999 00:00:00 GMT", ""]:
        clock.answered(http_date(value), None, T, T)
    assert clock.offset == 0.0
    assert math.isfinite(clock.local(T))


def test_a_new_window_s_bound_is_no_date_for_a_date_to_be_blamed_on() -> None:
    clock = ServerClock()
    clock.rolled(T + 10, T + 5)  # offset >= 5, not from a Date
    clock.answered(None, T + 10, T + 6, T + 6)  # offset < 4
    clock.answered(None, T + 10, T + 6.5, T + 6.5)  # offset < 3.5, said again: the newer wins
    assert clock.offset == 0.0
    clock.answered(date(T + 20), None, T + 7, T + 7)  # so a Date is still believed (and it
    clock.answered(date(T + 21), None, T + 8, T + 8)  # takes two to overrule the upper bound)
    assert clock.offset == pytest.approx(13 + 2 * FIRST_REACH)  # (the roll doubled the reach)


def test_an_equal_upper_bound_renews_it() -> None:
    clock = ServerClock()
    clock.answered(None, T - 10, T, T)  # offset < -10
    clock.answered(None, T - 10 + 200, T + 200, T + 200)  # the same bound, 200 s later
    later = T + HORIZON + 100
    clock.answered(None, None, later, later)  # 400 s after the first: kept by the second
    assert clock.offset == pytest.approx(-10 - FIRST_REACH)


def test_bounds_that_meet_are_a_conflict() -> None:
    clock = ServerClock()
    clock.answered(date(T + 5), None, T, T)  # offset >= 5
    clock.answered(None, T + 5, T, T)  # offset < 5: they meet
    assert clock.offset == pytest.approx(5 + FIRST_REACH)  # one word: held in doubt
    clock.answered(None, T + 5, T, T)  # two: the newer (upper) wins
    assert clock.offset == 0.0  # the Date is dropped, and nothing else says ours is wrong


def test_a_bound_is_kept_for_exactly_the_horizon() -> None:
    clock = ServerClock()
    clock.answered(None, T - 10, T, T)  # offset < -10, learnt at T
    clock.answered(None, None, T + HORIZON, T + HORIZON)
    assert clock.offset == pytest.approx(-10 - FIRST_REACH)  # still kept
    clock.answered(None, None, T + HORIZON + 0.01, T + HORIZON + 0.01)
    assert clock.offset == 0.0  # forgotten


def test_a_date_ignored_is_believed_again_at_the_end_of_the_horizon() -> None:
    clock = ServerClock()
    clock.answered(http_date(formatdate(T + 5, usegmt=True)), None, T, T)
    clock.answered(None, T + 1, T + 2, T + 2)  # proves that Date wrong, at T+2
    clock.answered(None, T + 1, T + 2, T + 2)  # (it takes two answers)
    back = T + 2 + HORIZON
    for _ in range(2):  # (two answers, against the upper bound, still kept)
        clock.answered(http_date(formatdate(back + 50, usegmt=True)), None, back, back)
    assert clock.offset == pytest.approx(50 + FIRST_REACH)


@pytest.mark.parametrize(
    ("sent", "received", "expected"),
    [
        # Date says T: the server's clock was below T+1 when the request left at T+1: behind
        # ours (an upper bound of 0 excludes our clock), so go by the lower bound.
        (T + 1, T + 1.2, -1.2 + FIRST_REACH),
        # Left at T+0.5: the server's clock was below T+1 then, 0.5 s ahead of ours at most,
        # and at least 1 s behind... or not: ours may be right, and is kept.
        (T + 0.5, T + 0.6, 0.0),
        # Left at T-0.1: ours may be right (the server's clock could be 1.1 s ahead).
        (T - 0.1, T + 0.6, 0.0),
    ],
)
def test_date_s_upper_bound_says_whether_our_clock_will_do(
    sent: float, received: float, expected: float
) -> None:
    clock = ServerClock()
    clock.answered(http_date(formatdate(T, usegmt=True)), None, sent, received)
    assert clock.offset == pytest.approx(expected)


def test_an_equal_date_bound_renews_it() -> None:
    clock = ServerClock()
    clock.answered(http_date(formatdate(T - 3, usegmt=True)), None, T - 1, T - 1)  # -3..-1
    clock.answered(http_date(formatdate(T - 3 + 200, usegmt=True)), None, T + 199, T + 250)
    later = T + HORIZON + 50
    clock.answered(None, None, later, later)  # the first upper bound would be forgotten now
    # But its renewal, 200 s later, is not: ours still won't do, and the offset stays below it.
    assert clock.offset == pytest.approx(-1 - FIRST_REACH)


# -- answers that contradict the others ----------------------------------------------------------


def test_one_stale_reset_does_not_move_the_clock() -> None:
    clock = ServerClock()
    clock.answered(date(T + 0.2), T + 8, T, T + 0.3)  # in step: -0.3 <= offset < 8
    clock.answered(date(T + 1.2), T - 299, T + 1, T + 1.3)  # a replayed answer's reset
    assert clock.offset == 0.0
    clock.answered(date(T + 2.2), T + 8, T + 2, T + 2.3)  # the next agrees with the others
    clock.answered(date(T + 3.2), T - 299, T + 3, T + 3.3)  # so this is a first word again
    assert clock.offset == 0.0
    clock.answered(date(T + 4.2), T + 8, T + 4, T + 4.3)
    assert clock.offset == 0.0


def test_one_stale_answer_date_and_all_does_not_move_the_clock() -> None:
    clock = ServerClock()
    clock.answered(date(T + 0.2), T + 8, T, T + 0.3)
    clock.answered(date(T - 299), T - 295, T + 1, T + 1.3)  # the whole answer is old
    assert clock.offset == 0.0
    clock.answered(date(T + 2.2), T + 8, T + 2, T + 2.3)
    assert clock.offset == 0.0


def test_one_stale_lower_bound_does_not_move_the_clock() -> None:
    clock = ServerClock()
    clock.answered(date(T + 0.2), T + 8, T, T + 0.3)  # -0.3 <= offset < 8
    clock.rolled(T + 400, T + 1)  # "the window ending at T+400 was over by T+1"
    assert clock.offset == 0.0
    clock.answered(date(T + 2.2), T + 8, T + 2, T + 2.3)  # the others agree with the first
    clock.rolled(T + 400, T + 3)  # a first word again
    assert clock.offset == 0.0


def test_a_contradiction_the_next_answer_repeats_is_believed() -> None:
    clock = ServerClock()
    clock.answered(date(T + 0.2), T + 8, T, T + 0.3)  # -0.3 <= offset < 8
    clock.answered(None, T + 4, T + 10, T + 10.1)  # offset < -6: held in doubt
    assert clock.offset == 0.0
    clock.answered(None, T + 4, T + 10.5, T + 10.6)  # and said again: our clock was stepped
    assert clock.offset == pytest.approx(-6.5 - FIRST_REACH)
    clock.rolled(T + 3, T + 11)  # offset >= -8
    assert clock.offset == pytest.approx(-8 + 2 * FIRST_REACH)
    clock.answered(None, T + 2, T + 11, T + 11.1)  # offset < -9: a new doubt, not a second word
    assert clock.offset == pytest.approx(-8 + 2 * FIRST_REACH)


def test_a_lower_bound_that_meets_the_upper_one_is_a_contradiction() -> None:
    clock = ServerClock()
    clock.answered(None, T + 10, T, T)  # offset < 10
    clock.rolled(T + 20, T + 10)  # offset >= 10: they meet; held in doubt
    assert clock.offset == 0.0
    clock.rolled(T + 20, T + 10)  # said again: believed
    assert clock.offset == pytest.approx(10 + 4 * FIRST_REACH)  # (each roll doubled the reach)


def test_a_date_upper_bound_at_the_lower_bound_is_dropped() -> None:
    clock = ServerClock()
    clock.answered(date(T), T + 8, T, T + 0.5)  # -0.5 <= offset < 8 (the Date's: < 1)
    assert clock.offset == 0.0
    clock.answered(date(T - 2), None, T - 0.5, T + 0.6)  # its Date says offset < -0.5: no
    assert clock.offset == 0.0


def test_a_word_on_the_other_side_does_not_clear_a_doubt() -> None:
    clock = ServerClock()
    clock.answered(date(T + 0.2), T + 8, T, T + 0.3)  # -0.3 <= offset < 8
    clock.answered(None, T + 4, T + 10, T + 10.1)  # offset < -6: held in doubt
    clock.rolled(T - 7, T + 10.2)  # offset >= -17.2: says nothing of the upper side
    clock.answered(None, T + 4, T + 10.5, T + 10.6)  # said again: believed
    assert clock.offset == pytest.approx(-6.5 - 2 * FIRST_REACH)  # (the roll doubled the reach)


def test_the_reach_is_bounded_however_long_the_process_runs() -> None:
    clock = ServerClock()
    clock.answered(date(T + 100.4), None, T, T + 0.3)  # offset >= 99.7, nothing above
    for _ in range(2000):
        clock.rolled(T + 99, T + 0.3)  # windows open on time, for hours
    assert clock.offset == pytest.approx(99.7 + MAX_REACH)
    assert MAX_REACH == 5.0


def test_the_reach_below_an_upper_bound_is_bounded_too() -> None:
    clock = ServerClock()
    clock.answered(None, T + 10, T + 10.5, T + 10.6)  # offset < -0.5, nothing below
    for _ in range(2000):
        clock.early()
    assert clock.offset == pytest.approx(-0.5 - MAX_REACH)

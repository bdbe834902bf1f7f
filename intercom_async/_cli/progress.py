"""The command line's bookkeeping of a bulk fetch: the live progress bar and the summary.

Only the command line imports this module (it needs rich, from the ``cli`` extra). Everything it
draws goes to stderr: stdout carries the tickets.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterable
from types import TracebackType

import attrs
from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from .._client import ClientStats
from .._errors import ApiError, IntercomError, ResponseDecodeError

__all__ = ["LiveProgress", "Tally", "failure_reason", "print_summary"]


def failure_reason(error: IntercomError) -> str:
    """How the summary groups a failure: the error class, and the HTTP status if there was one."""
    name = type(error).__name__
    if isinstance(error, (ApiError, ResponseDecodeError)):
        return f"{name} (HTTP {error.status})"
    return name


@attrs.define
class Tally:
    """What a bulk fetch has done so far, as the command line counts it.

    Attributes:
        total: how many ids there are, when known beforehand.
        fetched: tickets written out.
        failures: failed ids by ``failure_reason``.
        stats: the client's counters, as last looked at.
        interrupted: the fetch was stopped by Ctrl-C.
        output_failed: writing a ticket out failed (a full disk...).
        output_closed: the reader of the output closed it (``| head -1``): the fetch stopped
            there.
        token_refused: an answer was a 401: the fetch stopped there, and the ids after it
            were not sent.
        shared_quota: the Redis of the shared rate-limit budget (``--redis-url``), as it may
            be shown (no password), if there is one.
        shared_quota_lost: that budget was unavailable at some point (Redis unreachable or
            failing): the client paced itself alone meanwhile.
    """

    total: int | None = None
    fetched: int = 0
    failures: Counter[str] = attrs.Factory(Counter)
    stats: ClientStats = attrs.Factory(ClientStats)
    interrupted: bool = False
    output_failed: bool = False
    output_closed: bool = False
    token_refused: bool = False
    shared_quota: str | None = None
    shared_quota_lost: bool = False
    started: float = attrs.Factory(time.monotonic)
    finished: float | None = None

    def add_failure(self, error: IntercomError) -> None:
        """Count one failed id."""
        self.failures[failure_reason(error)] += 1

    @property
    def failed(self) -> int:
        """Failed ids, all reasons together."""
        return sum(self.failures.values())

    @property
    def done(self) -> int:
        """Ids dealt with so far, fetched or failed."""
        return self.fetched + self.failed

    @property
    def elapsed(self) -> float:
        """Seconds from the start to now, or to ``stop()``."""
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    @property
    def rate(self) -> float:
        """Tickets fetched per second."""
        elapsed = self.elapsed
        return self.fetched / elapsed if elapsed > 0 else 0.0

    def stop(self) -> None:
        """Stop the clock (once)."""
        if self.finished is None:
            self.finished = time.monotonic()

    def rows(self) -> list[tuple[str, str]]:
        """The summary, as ``(key, value)`` rows."""
        rows = [("fetched", str(self.fetched)), ("failed", str(self.failed))]
        rows += [(f"failed {reason}", str(n)) for reason, n in sorted(self.failures.items())]
        if self.token_refused:
            left = "the rest" if self.total is None else str(self.total - self.done)
            rows += [
                ("stopped", "the token was refused (HTTP 401); no more ids were sent"),
                ("not sent", left),
            ]
        rows += [
            ("retries", str(self.stats.retries)),
            ("429s", str(self.stats.rate_limited)),
            ("rate-limit waits", str(self.stats.rate_limit_waits)),
        ]
        if self.shared_quota is not None:
            rows.append(("shared quota", self.shared_quota))
            if self.shared_quota_lost:
                rows.append(("shared quota unavailable", "yes"))
        rows += [
            ("requests", str(self.stats.requests)),
            ("elapsed", f"{self.elapsed:.2f}s"),
            ("tickets/s", f"{self.rate:.1f}"),
        ]
        if self.output_closed:
            rows.append(("output closed", "yes"))
        if self.interrupted:
            rows.append(("interrupted", "yes"))
        return rows


class _TwoLineProgress(Progress):
    """rich's ``Progress`` with each task's counters on a line of their own, under its bar."""

    def get_renderables(self) -> Iterable[RenderableType]:
        """The bars, then the counters (a narrow terminal cuts them short, not the bar)."""
        yield self.make_tasks_table(self.tasks)
        for task in self.tasks:
            counters = str(task.fields.get("counters", ""))
            yield Text(f"  {counters}", no_wrap=True, overflow="ellipsis")


class LiveProgress:
    """A rich progress bar on stderr while a bulk fetch runs; does nothing unless ``enabled``.

    Use it as a context manager around the fetch, and call ``refresh()`` now and then.
    """

    def __init__(self, tally: Tally, *, enabled: bool, description: str = "fetching") -> None:
        self._tally = tally
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if not enabled:
            return
        columns: list[ProgressColumn] = [
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
        ]
        if tally.total is not None:
            columns += [BarColumn(bar_width=30), MofNCompleteColumn()]
        else:
            columns.append(TextColumn("{task.completed}"))
        columns += [TextColumn("{task.fields[rate]} tickets/s"), TimeElapsedColumn()]
        self._progress = _TwoLineProgress(
            *columns,
            console=Console(stderr=True),
            redirect_stdout=False,  # stdout carries the tickets, byte for byte
            redirect_stderr=True,  # error lines and logs go above the bar
        )
        self._task = self._progress.add_task(
            description, total=tally.total, counters=self._counters(), rate=self._rate()
        )

    def _counters(self) -> str:
        tally, stats = self._tally, self._tally.stats
        return (
            f"failed {tally.failed} · retried {stats.retries} · "
            f"rate-limit waits {stats.rate_limit_waits} · 429s {stats.rate_limited}"
        )

    def _rate(self) -> str:
        return f"{self._tally.rate:.0f}"

    def refresh(self) -> None:
        """Show the tally as it stands."""
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task,
                completed=self._tally.done,
                counters=self._counters(),
                rate=self._rate(),
            )

    def __enter__(self) -> LiveProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self.refresh()
            self._progress.stop()


def print_summary(tally: Tally, *, title: str, table: bool) -> None:
    """Print the tally on stderr: a rich table if ``table``, else ``key: value`` lines."""
    rows = tally.rows()
    if not table:
        sys.stderr.write("".join(f"{key}: {value}\n" for key, value in rows))
        sys.stderr.flush()
        return
    grid = Table(title=title, title_justify="left", show_header=False)
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    for key, value in rows:
        failed_row = key.startswith("failed") and value != "0"
        grid.add_row(key, value, style="red" if failed_row else None)
    Console(stderr=True).print(grid)

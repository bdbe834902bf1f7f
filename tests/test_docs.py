"""The documentation's examples, run: every ```python block of ``docs/*.md`` and of
``README.md``. Each must run as pasted: besides running it, every block (those only compiled
too) is checked to define or import every name it uses (``undefined_names``).

A block that defines ``test_*`` functions is a test module: it is executed, then each of its
tests runs with the fixtures it names (``intercom_fake``, ``intercom_client`` and
``monkeypatch``, as ``docs/testing.md`` describes them). Any other block is a script: it runs
with top-level ``await`` allowed, against a ``FakeIntercom`` that stands in for every region,
with ``INTERCOM_ACCESS_TOKEN`` set to the fake's token. The fake runs in a thread of its own, so
a script may call ``asyncio.run`` itself.

A block that reads ``REDIS_URL`` from the environment gets a real redis-server's URL there
(the ``redis_url`` fixture: such blocks need ``redis-server``, as the Redis tests do).

A block right after a ``<!-- needs PACKAGE -->`` line runs only where PACKAGE can be imported
(``arq``, which pins redis-py below 6, is installed in the main venv only), and is skipped
elsewhere.

A block right after a ``<!-- pytest -->`` line is a test module as a user's project has it: it
is written to a file of its own and run by ``pytest`` in a new process, with no configuration
(so pytest-asyncio's strict mode) and our pytest plugin's fixtures.

A block right after a ``<!-- no-test -->`` line (for code that needs what the tests lack: a
web framework, the real Intercom) is only compiled. Each block's test id is ``page.md:line``,
and tracebacks point at the page's lines.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import contextlib
import inspect
import logging
import os
import re
import subprocess
import symtable
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

import pytest

from intercom_async import RetryPolicy
from intercom_async._protocol import REGIONS
from intercom_async.testing import FakeIntercom

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = DOCS.parent / "README.md"
NO_TEST = "<!-- no-test -->"
PYTEST = "<!-- pytest -->"
NEEDS = re.compile(r"<!-- needs (?P<package>[\w.]+) -->")
FAKE_TOKEN = "docs-example-token"
# Scripts fetch tickets "1" to this; ids past it (and any other) are 404s.
FAKE_TICKETS = 10_000
# The longest a script with top-level await may run.
SCRIPT_TIMEOUT = 60.0
FIXTURES = ("intercom_fake", "intercom_client", "monkeypatch")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    """One fenced Python block of a page."""

    path: Path
    line: int  # of the block's first line of code, 1-based
    source: str
    skip: bool
    needs: str | None = None  # a package the block runs only with
    pytest: bool = False  # run by pytest in a process of its own

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


def extract(path: Path) -> list[Block]:
    """The ```python blocks of a Markdown page, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    start = 0
    while start < len(lines):
        fence = _FENCE.match(lines[start])
        if fence is None:
            start += 1
            continue
        end = start + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise ValueError(f"{path.name}:{start + 1}: a code block that never ends")
        language = fence["info"].strip().split(maxsplit=1)
        if language and language[0] in ("python", "py"):
            before = [line.strip() for line in lines[:start] if line.strip()]
            needs = NEEDS.fullmatch(before[-1]) if before else None
            blocks.append(
                Block(
                    path=path,
                    line=start + 2,
                    source=textwrap.dedent("\n".join(lines[start + 1 : end])),
                    skip=bool(before) and before[-1] == NO_TEST,
                    needs=needs["package"] if needs else None,
                    pytest=bool(before) and before[-1] == PYTEST,
                )
            )
        start = end + 1
    return blocks


def all_blocks() -> list[Block]:
    pages = [*sorted(DOCS.glob("*.md")), README]
    return [block for page in pages for block in extract(page)]


BLOCKS = all_blocks()


def compile_block(block: Block) -> CodeType:
    """The block compiled as a module whose line numbers are the page's."""
    code: CodeType = compile(
        "\n" * (block.line - 1) + block.source + "\n",
        str(block.path),
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        dont_inherit=True,
    )
    return code


def undefined_names(source: str) -> list[str]:
    """The names ``source`` uses as globals (at its top level or in its functions) that it
    neither assigns, defines nor imports at its top level, and that are no builtins: what
    fails with a ``NameError`` when the block is pasted alone (``store``, a forgotten
    import). ``await`` at the top level is allowed, as the pages say."""
    top = symtable.symtable(source, "<block>", "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    tables, used = [top], set()
    while tables:
        table = tables.pop()
        tables.extend(table.get_children())
        for symbol in table.get_symbols():
            if symbol.is_declared_global() and symbol.is_assigned():
                bound.add(symbol.get_name())  # `global x; x = ...` in a function
            if symbol.is_referenced() and (table is top or symbol.is_global()):
                used.add(symbol.get_name())
    known = bound | set(dir(builtins)) | {"__file__"}
    return sorted(used - known)


def defined_tests(block: Block) -> list[str]:
    """The ``test_*`` functions a block defines at its top level."""
    tree = ast.parse(block.source)
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    ]


def execute(code: CodeType, namespace: dict[str, Any]) -> None:
    """Run compiled code in ``namespace``, awaiting it in a new event loop if it awaits."""
    result = eval(code, namespace)  # noqa: S307 - the docs' own examples
    if inspect.iscoroutine(result):
        asyncio.run(asyncio.wait_for(result, SCRIPT_TIMEOUT))


def new_namespace(block: Block) -> dict[str, Any]:
    return {"__name__": "docs_example", "__file__": str(block.path)}


async def call_test(function: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Call a docs test with the fixtures it names, made as the pytest plugin makes them."""
    names = list(inspect.signature(function).parameters)
    unknown = [name for name in names if name not in FIXTURES]
    if unknown:
        raise LookupError(f"{function.__name__} asks for fixtures the docs tests lack: {unknown}")
    async with contextlib.AsyncExitStack() as stack:
        arguments: dict[str, Any] = {}
        if "intercom_fake" in names or "intercom_client" in names:
            fake = await stack.enter_async_context(FakeIntercom(tickets=10))
            arguments["intercom_fake"] = fake
            if "intercom_client" in names:
                client = fake.client(retry=RetryPolicy.no_wait())
                arguments["intercom_client"] = await stack.enter_async_context(client)
        arguments["monkeypatch"] = monkeypatch
        result = function(**{name: arguments[name] for name in names})
        if inspect.isawaitable(result):
            await result


def run_block(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run one block: its tests if it defines any, else the block itself as a script."""
    code = compile_block(block)
    namespace = new_namespace(block)
    names = defined_tests(block)
    execute(code, namespace)
    for name in names:
        with monkeypatch.context() as patched:
            asyncio.run(call_test(namespace[name], patched))


@pytest.fixture
def fake_intercom(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIntercom]:
    """A ``FakeIntercom`` in a thread of its own, standing in for every region."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="docs FakeIntercom", daemon=True)
    thread.start()

    async def start() -> FakeIntercom:
        fake = FakeIntercom(token=FAKE_TOKEN, tickets=FAKE_TICKETS)
        await fake.start()
        return fake

    try:
        fake = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
        try:
            for region in list(REGIONS):
                monkeypatch.setitem(REGIONS, region, fake.base_url)
            monkeypatch.setenv("INTERCOM_ACCESS_TOKEN", FAKE_TOKEN)
            monkeypatch.delenv("INTERCOM_BASE_URL", raising=False)  # the regions are the fake
            yield fake
        finally:
            asyncio.run_coroutine_threadsafe(fake.close(), loop).result(timeout=10)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """Undo what an example does to the loggers: levels, handlers (``dictConfig``), propagation."""
    names = ["", "intercom_async", "intercom_async.quota", "uvicorn", "uvicorn.error"]
    names += ["uvicorn.access"]
    loggers = [logging.getLogger(name) for name in names]
    saved = [(logger.level, list(logger.handlers), logger.propagate) for logger in loggers]
    yield
    for logger, (level, handlers, propagate) in zip(loggers, saved, strict=True):
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.disabled = False


@pytest.mark.usefixtures("logging_restored")
@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.skip], ids=lambda b: b.id)
def test_example_runs(
    block: Block,
    fake_intercom: FakeIntercom,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if block.needs is not None:
        pytest.importorskip(block.needs, reason=f"{block.id} needs {block.needs}")
    if "REDIS_URL" in block.source:
        monkeypatch.setenv("REDIS_URL", request.getfixturevalue("redis_url"))
    if block.pytest:
        run_with_pytest(block, request.getfixturevalue("tmp_path"))
        return
    run_block(block, monkeypatch)


def run_with_pytest(block: Block, directory: Path) -> None:
    """Run a block as a test module of its own, with pytest, in a new process."""
    module = directory / f"test_{block.path.stem.replace('-', '_')}_{block.line}.py"
    module.write_text("\n" * (block.line - 1) + block.source + "\n", encoding="utf-8")
    environment = dict(os.environ, PYTHONPATH=str(DOCS.parent))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)]
    command += ["-W", "error::ResourceWarning"]
    command += ["-W", "error::pytest.PytestUnraisableExceptionWarning"]
    done = subprocess.run(  # noqa: S603 - our own interpreter, on the docs' own example
        command, cwd=directory, env=environment, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{block.id}: pytest failed\n{done.stdout}\n{done.stderr}"
    assert " passed" in done.stdout and " skipped" not in done.stdout, done.stdout


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.skip], ids=lambda b: b.id)
def test_skipped_example_compiles(block: Block) -> None:
    compile_block(block)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: b.id)
def test_example_defines_every_name_it_uses(block: Block) -> None:
    assert undefined_names(block.source) == [], f"{block.id} would fail when pasted alone"


def test_the_pages_have_examples() -> None:
    pages = {block.path.name for block in BLOCKS if not block.skip}
    assert {"index.md", "quickstart.md", "usage.md", "bulk.md", "errors.md"} <= pages
    assert {"rate-limits.md", "testing.md", "shared-quota.md", "web-apps.md"} <= pages
    assert "README.md" in pages


def test_names_a_pasted_block_lacks_are_found() -> None:
    source = textwrap.dedent(
        """\
        import asyncio
        from intercom_async import NotFoundError

        async with IntercomClient() as client:
            async for result in client.tickets.get_many(ticket_ids):
                store(result.ticket) if result.ok else log_failure(result.id, result.error)


        def handler(error: NotFoundError) -> None:
            global last
            last = error
            print(last, asyncio, undefined_in_a_function)
        """
    )
    assert undefined_names(source) == [
        "IntercomClient",
        "log_failure",
        "store",
        "ticket_ids",
        "undefined_in_a_function",
    ]


# -- the harness itself: a failing example must fail ---------------------------------------


def page(tmp_path: Path, text: str) -> list[Block]:
    path = tmp_path / "page.md"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return extract(path)


def test_blocks_are_found_with_their_lines_and_markers(tmp_path: Path) -> None:
    blocks = page(
        tmp_path,
        """\
        # A page

        ```python
        x = 1
        ```

        ```bash
        echo not python
        ```

        <!-- no-test -->
        ```python
        import not_installed
        ```

        !!! note
            ```python
            y = 2
            ```
        """,
    )
    assert [(b.line, b.source, b.skip) for b in blocks] == [
        (4, "x = 1", False),
        (13, "import not_installed", True),
        (18, "y = 2", False),
    ]
    assert blocks[0].id == "page.md:4"


def test_a_failing_script_fails_at_its_line(
    tmp_path: Path, fake_intercom: FakeIntercom, monkeypatch: pytest.MonkeyPatch
) -> None:
    [block] = page(
        tmp_path,
        """\
        ```python
        from intercom_async import IntercomClient

        async with IntercomClient() as client:
            ticket = await client.tickets.get("1")
        assert ticket.id == "2"
        ```
        """,
    )
    with pytest.raises(AssertionError) as info:
        run_block(block, monkeypatch)
    assert info.traceback[-1].lineno + 1 == 6  # pytest's line numbers are 0-based


def test_a_failing_docs_test_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [block] = page(
        tmp_path,
        """\
        ```python
        from intercom_async import IntercomClient
        from intercom_async.testing import FakeIntercom


        async def test_passes(intercom_client: IntercomClient) -> None:
            assert (await intercom_client.tickets.get("1")).id == "1"


        async def test_fails(intercom_fake: FakeIntercom) -> None:
            assert intercom_fake.requests
        ```
        """,
    )
    with pytest.raises(AssertionError):
        run_block(block, monkeypatch)


def test_a_script_that_needs_a_missing_ticket_fails(
    tmp_path: Path, fake_intercom: FakeIntercom, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intercom_async import NotFoundError

    [block] = page(
        tmp_path,
        """\
        ```python
        import asyncio

        from intercom_async import IntercomClient


        async def main() -> None:
            async with IntercomClient() as client:
                await client.tickets.get("no-such-ticket")


        asyncio.run(main())
        ```
        """,
    )
    with pytest.raises(NotFoundError):
        run_block(block, monkeypatch)

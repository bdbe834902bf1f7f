"""Score a mutmut run per module, setting aside mutants that only reword a message.

Run by ``make mutate`` after ``mutmut run``, from the project's root (where ``mutants/`` is)::

    python tools/mutation_score.py [--survivors FILE] intercom_async/_ratelimit.py ...

For each module it prints how many of its mutants were killed, survived, timed out, were
suspicious or reached by no test, and the percentage caught (killed or timed out); the surviving
mutants' diffs go to ``--survivors``. Statuses come from ``mutmut results --all true``; the
diffs from the mutated copies in ``mutants/``, where mutmut 3 keeps each function's original as
``<name>__mutmut_orig`` beside its mutants ``<name>__mutmut_<n>``.

A mutant is *wording* (set aside, listed separately, not scored) when the only difference
between the mutant and the original function, compared as syntax trees, is the text of string
literals that are all parts of a message:

- the first positional argument of a call that is raised (``raise NotFound("...")``,
  ``raise failure("...")``) or of a built-in exception class (``ValueError("...")``);
- an argument named ``reason``, ``message`` or ``msg`` of any call (``RateLimitError(429,
  reason="...")``);
- a positional argument of a logging call (``logger.warning("%s failed", ...)``) or the first
  of ``warnings.warn``;

reached only through string building: f-string parts, ``+``, ``"..." % ...``,
``"...".format(...)``, ``"...".join(...)`` and the branches of ``a if c else b``. Anything else
counts, even inside such a call: a header name in ``headers={"Retry-After": ...}``, a string
passed to a helper, a key looked up to build the message, a removed argument. To keep a line
from being mutated at all, mark it ``# pragma: no mutate`` (mutmut honours it).
"""

from __future__ import annotations

import argparse
import ast
import builtins
import difflib
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MESSAGE_KEYWORDS = frozenset({"reason", "message", "msg"})
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)
LOGGER_NAME = re.compile(r"_*(log|logger|logging)", re.IGNORECASE)
BUILTIN_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
# Statuses as `mutmut results` names them; "caught" counts the first three.
CAUGHT = ("killed", "timeout", "caught by type check")
NOT_SCORED = ("skipped", "not checked")
COLUMNS = ("killed", "survived", "timeout", "suspicious", "no tests")


@dataclass(frozen=True)
class Step:
    """One step down a syntax tree: ``node``'s ``field`` (at ``index``, for a list field)."""

    node: ast.AST
    field: str
    index: int | None


Trail = tuple[Step, ...]


@dataclass
class Mutant:
    name: str
    status: str
    wording: bool
    diff: str


@dataclass
class ModuleScore:
    path: str
    mutants: list[Mutant] = field(default_factory=list)

    def scored(self) -> list[Mutant]:
        return [m for m in self.mutants if not m.wording]

    def wording(self) -> list[Mutant]:
        return [m for m in self.mutants if m.wording]


# --- reading mutmut's results ------------------------------------------------------------------


def read_statuses(text: str) -> dict[str, str]:
    """``{mutant name: status}`` from the output of ``mutmut results --all true``."""
    statuses = {}
    for line in text.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            statuses[name] = status
    return statuses


def run_mutmut_results() -> str:
    command = [sys.executable, "-m", "mutmut", "results", "--all", "true"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def generated_functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function and method of a mutated module, by name (mutmut's names are unique)."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}

    def visit(body: Iterable[ast.stmt]) -> None:
        for statement in body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                found[statement.name] = statement
            elif isinstance(statement, ast.ClassDef):
                visit(statement.body)

    visit(tree.body)
    return found


# --- comparing a mutant with its original -----------------------------------------------------


@dataclass
class Differences:
    strings: list[Trail] = field(default_factory=list)  # where a str literal's text changed
    other: bool = False  # any other change


def compare(a: object, b: object, where: Trail, out: Differences) -> None:
    """Record how ``b`` (the mutant's tree) differs from ``a`` (the original's)."""
    if out.other:
        return
    if isinstance(a, ast.AST) and isinstance(b, ast.AST):
        if type(a) is not type(b):
            out.other = True
            return
        if isinstance(a, ast.Constant) and isinstance(b, ast.Constant):
            if type(a.value) is type(b.value) and a.value == b.value:
                return
            if isinstance(a.value, str) and isinstance(b.value, str):
                out.strings.append(where)
            else:
                out.other = True
            return
        for name in a._fields:
            compare_field(a, name, getattr(a, name, None), getattr(b, name, None), where, out)
        return
    if a != b:
        out.other = True


def compare_field(
    parent: ast.AST, name: str, a: object, b: object, where: Trail, out: Differences
) -> None:
    """Compare the ``name`` field of ``parent`` in the two trees: a node, a list or a value."""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.other = True
            return
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            compare(x, y, (*where, Step(parent, name, index)), out)
    else:
        compare(a, b, (*where, Step(parent, name, None)), out)


def compare_functions(
    original: ast.FunctionDef | ast.AsyncFunctionDef,
    mutant: ast.FunctionDef | ast.AsyncFunctionDef,
) -> Differences:
    out = Differences()
    if type(original) is not type(mutant):
        out.other = True
        return out
    for name in original._fields:
        if name != "name":  # the generated names differ, of course
            compare_field(original, name, getattr(original, name), getattr(mutant, name), (), out)
    return out


# --- where a string is a message --------------------------------------------------------------


def _callee_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_logging_call(call: ast.Call) -> bool:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in LOG_METHODS):
        return False
    owner = func.value
    if isinstance(owner, ast.Name):
        return LOGGER_NAME.fullmatch(owner.id) is not None
    if isinstance(owner, ast.Attribute):
        return LOGGER_NAME.fullmatch(owner.attr) is not None
    return False


def _is_warn_call(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "warn"
        and isinstance(func.value, ast.Name)
        and func.value.id == "warnings"
    )


def is_message(where: Trail) -> bool:
    """Whether the string literal at the end of ``where`` is (part of) a message's text."""
    steps = list(where)
    while steps:
        step = steps.pop()
        node = step.node
        if isinstance(node, ast.JoinedStr):
            continue  # a part of an f-string
        if isinstance(node, ast.BinOp) and (
            isinstance(node.op, ast.Add) or (isinstance(node.op, ast.Mod) and step.field == "left")
        ):
            continue  # "..." + x, "... %s" % x
        if isinstance(node, ast.IfExp) and step.field in ("body", "orelse"):
            continue
        if (
            isinstance(node, ast.Attribute)
            and step.field == "value"
            and node.attr in ("format", "join")
            and steps
            and isinstance(steps[-1].node, ast.Call)
            and steps[-1].field == "func"
        ):
            steps.pop()  # "...".format(x): the call builds the message
            continue
        if isinstance(node, ast.keyword):
            return node.arg in MESSAGE_KEYWORDS
        if isinstance(node, ast.Call) and step.field == "args":
            first = step.index == 0
            parent = steps[-1] if steps else None
            raised = (
                parent is not None and isinstance(parent.node, ast.Raise) and parent.field == "exc"
            )
            if _is_logging_call(node):
                return True
            if _is_warn_call(node) or raised or _callee_name(node) in BUILTIN_EXCEPTIONS:
                return first
            return False
        return False
    return False


def is_wording(differences: Differences) -> bool:
    return (
        not differences.other
        and bool(differences.strings)
        and all(is_message(where) for where in differences.strings)
    )


# --- putting it together ----------------------------------------------------------------------


def function_source(
    lines: Sequence[str], node: ast.FunctionDef | ast.AsyncFunctionDef, name: str
) -> list[str]:
    """The function's lines, dedented, with its generated name put back to ``name``."""
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
    assert node.end_lineno is not None
    text = [line.rstrip("\n") for line in lines[start : node.end_lineno]]
    indent = len(text[0]) - len(text[0].lstrip())
    text = [line[indent:] for line in text]
    return [re.sub(rf"\b{re.escape(node.name)}\b", name, line, count=1) for line in text]


def original_name(generated: str) -> str:
    """``xǁPacerǁacquire__mutmut_3`` -> ``acquire``; ``x_parse__mutmut_1`` -> ``parse``."""
    mangled = generated.partition("__mutmut_")[0]
    if "ǁ" in mangled:
        return mangled.rpartition("ǁ")[2]
    return mangled.removeprefix("x_")


def score_module(path: str, statuses: dict[str, str], mutants_dir: Path) -> ModuleScore:
    prefix = module_name(path) + "."
    names = sorted(
        (n for n in statuses if n.startswith(prefix) and "." not in n[len(prefix) :]),
        key=_natural,
    )
    score = ModuleScore(path)
    if not names:
        return score
    source_path = mutants_dir / path
    lines = source_path.read_text(encoding="utf-8").splitlines(keepends=True)
    functions = generated_functions(ast.parse("".join(lines), filename=str(source_path)))
    for name in names:
        generated = name[len(prefix) :]
        orig_generated = generated.partition("__mutmut_")[0] + "__mutmut_orig"
        mutant_node, orig_node = functions.get(generated), functions.get(orig_generated)
        if mutant_node is None or orig_node is None:
            sys.exit(
                f"{source_path}: no function {generated} or {orig_generated}; has mutmut changed "
                "how it lays out mutants? (this script knows mutmut 3.8)"
            )
        wording = is_wording(compare_functions(orig_node, mutant_node))
        plain = original_name(generated)
        diff = "\n".join(
            difflib.unified_diff(
                function_source(lines, orig_node, plain),
                function_source(lines, mutant_node, plain),
                fromfile=path,
                tofile=path,
                lineterm="",
                n=2,
            )
        )
        score.mutants.append(Mutant(name, statuses[name], wording, diff))
    return score


def _natural(name: str) -> tuple[str, int]:
    head, _, number = name.rpartition("__mutmut_")
    return (head, int(number) if number.isdigit() else -1)


def caught_percent(mutants: Sequence[Mutant]) -> str:
    counts = Counter(m.status for m in mutants)
    scored = len(mutants) - sum(counts[s] for s in NOT_SCORED)
    if scored == 0:
        return "-"
    return f"{100 * sum(counts[s] for s in CAUGHT) / scored:.1f}%"


def table(scores: Sequence[ModuleScore]) -> Iterator[str]:
    width = max(len("total"), *(len(s.path) for s in scores))
    head = ["all", *COLUMNS, "caught", "wording"]
    yield f"{'module':<{width}}  " + "  ".join(f"{h:>8}" for h in head)
    every: list[Mutant] = []
    for score in [*scores, None]:
        if score is None:
            if len(scores) < 2:
                return
            label, mutants = "total", every
        else:
            label, mutants = score.path, score.mutants
            every.extend(mutants)
        scored = [m for m in mutants if not m.wording]
        wording = [m for m in mutants if m.wording]
        counts = Counter(m.status for m in scored)
        cells = [len(scored), *(counts[c] for c in COLUMNS)]
        set_aside = f"{len(wording)}" + (
            f" ({sum(m.status == 'survived' for m in wording)} surv.)" if wording else ""
        )
        yield (
            f"{label:<{width}}  "
            + "  ".join(f"{c:>8}" for c in cells)
            + f"  {caught_percent(scored):>8}  {set_aside:>8}"
        )


def survivors_report(scores: Sequence[ModuleScore]) -> str:
    out = [
        "Mutants the tests did not catch (survived, suspicious, or reached by no test), by module,",
        "diffed as `mutmut show NAME` shows them; the wording-only mutants of messages come last.",
        "",
    ]
    for score in scores:
        missed = [m for m in score.scored() if m.status not in CAUGHT and m.status != "skipped"]
        out += [f"{'=' * 100}", f"{score.path}: {len(missed)} not caught", "=" * 100, ""]
        for mutant in missed:
            out += [f"--- {mutant.name}: {mutant.status}", mutant.diff, ""]
        wording = score.wording()
        if wording:
            out += [f"{score.path}: {len(wording)} wording-only mutants, set aside:"]
            out += [f"    {m.name}: {m.status}" for m in wording]
            out.append("")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("modules", nargs="+", help="source files, e.g. intercom_async/_retry.py")
    parser.add_argument("--survivors", type=Path, help="write the uncaught mutants' diffs here")
    parser.add_argument(
        "--results", type=Path, help="read `mutmut results --all true` output from this file"
    )
    parser.add_argument("--mutants-dir", type=Path, default=Path("mutants"))
    args = parser.parse_args(argv)

    text = args.results.read_text() if args.results else run_mutmut_results()
    statuses = read_statuses(text)
    scores = [score_module(path, statuses, args.mutants_dir) for path in args.modules]
    for score in scores:
        if not score.mutants:
            print(f"warning: no mutants of {score.path} in the results", file=sys.stderr)
    print()
    print("Mutation score: caught = (killed + timeout) / mutants; messages' wording set aside")
    for line in table(scores):
        print(line)
    unchecked = sum(m.status == "not checked" for s in scores for m in s.mutants)
    if unchecked:
        print(f"warning: {unchecked} mutants were not checked (an interrupted run?)")
    if args.survivors:
        args.survivors.parent.mkdir(parents=True, exist_ok=True)
        args.survivors.write_text(survivors_report(scores), encoding="utf-8")
        print(f"Uncaught mutants with their diffs: {args.survivors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

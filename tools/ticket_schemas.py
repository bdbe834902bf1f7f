"""Copy the schemas of a ticket out of Intercom's OpenAPI descriptions, for the tests.

Usage: ``.venv/bin/python tools/ticket_schemas.py [SPEC_DIR]`` (default ``../shared/spec``).

For each ``intercom-openapi-<version>.yaml`` of 2.9 and later it writes
``tests/data/ticket_schemas_<major>_<minor>.json``: the schema ``ticket`` and every schema it
reaches through ``$ref``, plus ``error``, as the description has them. ``tests/schema_strategies``
draws tickets from these files, and ``tests/test_properties.py::test_schema_copy_matches_the_spec``
checks that they still equal the descriptions.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ROOTS = ("ticket", "error")


def reachable(schemas: dict[str, Any], roots: tuple[str, ...] = ROOTS) -> dict[str, Any]:
    """The schemas named in ``roots`` and every schema they reach, depth first, each in the
    order its first ``$ref`` appears."""
    found: dict[str, Any] = {}

    def visit(name: str) -> None:
        if name not in found:
            found[name] = schemas[name]
            for ref in _refs(schemas[name]):
                visit(ref)

    for root in roots:
        visit(root)
    return found


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[1]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def main() -> None:
    spec_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "spec"
    for path in sorted(spec_dir.glob("intercom-openapi-*.yaml")):
        match = re.fullmatch(r"intercom-openapi-(\d+)\.(\d+)\.yaml", path.name)
        if not match or (int(match[1]), int(match[2])) < (2, 9):
            continue
        schemas = yaml.safe_load(path.read_text(encoding="utf-8"))["components"]["schemas"]
        out = ROOT / "tests" / "data" / f"ticket_schemas_{match[1]}_{match[2]}.json"
        text = json.dumps(reachable(schemas), indent=1, ensure_ascii=False)
        out.write_text(text, encoding="utf-8")
        print(f"{out.relative_to(ROOT)}: {len(reachable(schemas))} schemas")


if __name__ == "__main__":
    main()

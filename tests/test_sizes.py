"""Modules are read in one sitting and functions fit on a screen (issue 10, step 6).

A module of the apps (and of ``bench/``) has at most ``MODULE_LINES`` lines, a function at
most ``FUNCTION_LINES`` (from its ``def`` to its last line, docstring and decorators
excluded from neither). Where more is the clearer choice, the reason is written beside
it, where the next reader looks:

- a module: a comment ``# size: <reason>`` in its first 30 lines;
- a function: a comment ``# long: <reason>`` on the line of its ``def``, on the line just
  above it (above its decorators), or as the first line of its body.

A reason is at least a few words; an empty marker does not count. Migrations are not
checked (they are generated history).
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("engine", "schemes", "cases", "workflows", "notifications", "web", "guichet", "bench")
MODULE_LINES = 500
FUNCTION_LINES = 60
SIZE_MARK = re.compile(r"#\s*size:\s*(\S.{10,})")
LONG_MARK = re.compile(r"#\s*long:\s*(\S.{10,})")


@dataclass(frozen=True)
class Oversize:
    path: str
    line: int
    name: str
    lines: int
    limit: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}  {self.name}: {self.lines} lignes (> {self.limit})"


def _has_mark(lines: list[str], numbers, mark: re.Pattern) -> bool:
    return any(0 < n <= len(lines) and mark.search(lines[n - 1]) for n in numbers)


def oversized(root: Path, apps=CHECKED) -> tuple[list[Oversize], int]:
    found, modules = [], 0
    for app in apps:
        for path in sorted((root / app).rglob("*.py")):
            rel = path.relative_to(root)
            if "migrations" in rel.parts or "__pycache__" in rel.parts:
                continue
            modules += 1
            text = path.read_text(encoding="utf-8")
            lines = text.splitlines()
            if len(lines) > MODULE_LINES and not _has_mark(lines, range(1, 31), SIZE_MARK):
                found.append(Oversize(str(rel), 1, "(module)", len(lines), MODULE_LINES))
            for node in ast.walk(ast.parse(text, filename=str(path))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                length = node.end_lineno - node.lineno + 1
                if length <= FUNCTION_LINES:
                    continue
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                body_first = node.body[0].lineno
                where = {first - 1, node.lineno, *range(node.lineno + 1, body_first + 1)}
                if not _has_mark(lines, where, LONG_MARK):
                    found.append(Oversize(str(rel), node.lineno, node.name, length, FUNCTION_LINES))
    return found, modules


def test_no_module_or_function_too_long_without_a_written_reason():
    found, modules = oversized(ROOT)
    assert modules > 100, "the check read too few modules: is ROOT right?"
    assert not found, "\n" + "\n".join(map(str, found))


def test_the_check_sees_planted_oversizes(tmp_path):
    long_body = "\n".join(f"    x{i} = {i}" for i in range(70))
    files = {
        "cases/big.py": "\n".join(f"A{i} = {i}" for i in range(600)),
        "cases/big_ok.py": "# size: one table of the law, kept whole\n"
        + "\n".join(f"A{i} = {i}" for i in range(600)),
        "cases/fn.py": f"def plain():\n{long_body}\n",
        "cases/fn_ok.py": f"def explained():  # long: one SQL statement, read top down\n"
        f"{long_body}\n",
        "cases/fn_above.py": "# long: the steps of the law in their order, one each\n"
        f"@staticmethod\ndef above():\n{long_body}\n",
        "cases/fn_empty.py": f"def empty_reason():  # long:\n{long_body}\n",
        "cases/migrations/0001_initial.py": "\n".join(f"A{i} = {i}" for i in range(900)),
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    found, modules = oversized(tmp_path, apps=("cases",))
    assert modules == 6
    assert {(o.path, o.name) for o in found} == {
        ("cases/big.py", "(module)"),
        ("cases/fn.py", "plain"),
        ("cases/fn_empty.py", "empty_reason"),
    }

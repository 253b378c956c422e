"""The project uses viewflow through its public API only: no private name of viewflow
(``node._create``, ``activation._activate_next``…) is imported or reached as an attribute
anywhere in the project's code, so an upgrade of viewflow cannot break it silently."""

from __future__ import annotations

import ast
from pathlib import Path

import viewflow
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SKIP = {".venv", "node_modules", ".git", "static", "media"}
# Private names viewflow shares with Django or the standard library, used here as such.
NOT_VIEWFLOWS = {"_state", "_meta", "_replace", "_default_manager", "_base_manager"}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _viewflow_private_names() -> set[str]:
    names = set()
    for path in Path(viewflow.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _private(node.name):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if _private(node.attr):
                    names.add(node.attr)
    return names - NOT_VIEWFLOWS


def _project_files():
    for path in ROOT.rglob("*.py"):
        if not SKIP.intersection(path.relative_to(ROOT).parts):
            yield path


def _own_names(tree) -> set[str]:
    """What the module defines itself: its functions and methods, the attributes it sets."""
    return {
        n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    } | {
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
    }


def _uses(path: Path, private: set[str]):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _own_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("viewflow"):
            for alias in node.names:
                if _private(alias.name):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.Attribute) and node.attr in private:
            on_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if not (on_self and node.attr in own):  # ``self._create`` of the module's class
                yield node.lineno, node.attr


def test_no_private_viewflow_name_in_the_project():
    private = _viewflow_private_names()
    assert {"_create", "_activate_next", "_set_status"} <= private
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in _project_files()
        for line, name in _uses(path, private)
    ]
    assert found == []

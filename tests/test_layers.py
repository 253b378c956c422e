"""Imports between the apps go down the floors, never up, and never round in a cycle.

The floors (docs/adr/007-schemes-and-floors.md, README « Layout of the code »)::

    web, guichet      pages; settings, URLs, Celery, the REST API   (floor 5)
    notifications     reminders, alerts, e-mail, iCal, digests     (floor 4)
    workflows         deadline plans per scheme, viewflow tasks     (floor 3)
    cases             dossiers and everything that hangs on them    (floor 2)
    schemes           funders, schemes, territory, EPCI, communes   (floor 1)
    engine            calendar, transitions, deadlines, outbox      (floor 0)

An app may import any app on a lower floor. ``web`` and ``guichet`` share the top floor
and import nothing of each other: the root URLconf mounts the pages by a dotted string
(``include("web.urls")``), which is configuration, not an import.

Every module of the apps is parsed with ``ast`` — imports inside functions, classes and
``if TYPE_CHECKING:`` blocks count, relative imports are resolved, and so is
``importlib.import_module("…")`` with a literal name. Migrations, tests, bench and
scripts are not checked (a migration names the app labels of its time).

Reading a failure: each line is one import statement that breaks the rule, ::

    cases/services.py:559  cases (2) -> workflows (3): from workflows.models import Funder

the file and line of the statement, the importing app and the imported app with their
floors, and the statement itself. Fix it at the right depth: move the code it needs down
to the lower app (as ``Scheme`` moved to ``schemes``), or let the lower app offer a hook
or a registry that the upper one fills at start-up (``engine.transitions.register_hook``,
``engine.periodic.register_job``). A cycle is reported as the apps that import each other
(``cases -> workflows -> cases``) followed by the statements that close it.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FLOORS = {
    "engine": 0,
    "schemes": 1,
    "cases": 2,
    "workflows": 3,
    "notifications": 4,
    "web": 5,
    "guichet": 5,
}
EXCLUDED_DIRS = {"migrations", "__pycache__"}


@dataclass(frozen=True)
class Import:
    path: str  # relative to the root
    line: int
    source: str  # importing app
    target: str  # imported app
    statement: str

    def describe(self, floors: dict[str, int]) -> str:
        return (
            f"{self.path}:{self.line}  {self.source} ({floors[self.source]}) -> "
            f"{self.target} ({floors[self.target]}): {self.statement}"
        )


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    """The dotted name of a file, and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of ``from <level dots><name> import …`` written in ``module``."""
    if level == 0:
        return name or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, name] if name else base)


def _imported_names(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [_resolve(module, is_package, node.level, node.module)]
    if (
        isinstance(node, ast.Call)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))
        )
    ):
        return [node.args[0].value]
    return []


def app_imports(root: Path, floors: dict[str, int]) -> tuple[list[Import], int]:
    """Every import from one app of ``floors`` into another, and how many modules were
    read."""
    found, modules = [], 0
    for app in floors:
        for path in sorted((root / app).rglob("*.py")):
            if EXCLUDED_DIRS & set(path.relative_to(root).parts):
                continue
            modules += 1
            module, is_package = _module_name(root, path)
            source = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(source, filename=str(path))):
                for name in _imported_names(node, module, is_package):
                    target = name.split(".")[0]
                    if target in floors and target != app:
                        statement = " ".join((ast.get_source_segment(source, node) or "").split())
                        found.append(
                            Import(str(path.relative_to(root)), node.lineno, app, target, statement)
                        )
    return found, modules


def upward(imports: list[Import], floors: dict[str, int]) -> list[Import]:
    """Imports of an app on the same floor or higher."""
    return [i for i in imports if floors[i.target] >= floors[i.source]]


def cycles(imports: list[Import]) -> list[list[str]]:
    """The groups of apps that import each other, directly or through other apps
    (strongly connected components of more than one app), each as a closed path."""
    graph: dict[str, set[str]] = {}
    for i in imports:
        graph.setdefault(i.source, set()).add(i.target)
        graph.setdefault(i.target, set())
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(app: str) -> None:  # Tarjan
        index[app] = low[app] = len(index)
        stack.append(app)
        on_stack.add(app)
        for nxt in sorted(graph[app]):
            if nxt not in index:
                visit(nxt)
                low[app] = min(low[app], low[nxt])
            elif nxt in on_stack:
                low[app] = min(low[app], index[nxt])
        if low[app] == index[app]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == app:
                    break
            if len(group) > 1:
                groups.append(group)

    for app in sorted(graph):
        if app not in index:
            visit(app)
    return sorted(_closed_path(graph, sorted(group)) for group in groups)


def _closed_path(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """A path from the group's first app back to itself, inside the group."""
    start, members = group[0], set(group)
    paths = [[start]]
    while paths:
        path = paths.pop(0)
        for nxt in sorted(graph[path[-1]] & members):
            if nxt == start:
                return [*path, start]
            if nxt not in path:
                paths.append([*path, nxt])
    return group


def report(imports: list[Import], floors: dict[str, int]) -> str:
    lines = []
    for group in cycles(imports):
        lines.append("cycle: " + " -> ".join(group))
        edges = set(zip(group, group[1:], strict=False))
        lines += ["  " + i.describe(floors) for i in imports if (i.source, i.target) in edges]
    bad = upward(imports, floors)
    if bad:
        lines.append("imports that go up (or sideways between web and guichet):")
        lines += ["  " + i.describe(floors) for i in bad]
    return "\n".join(lines)


# ------------------------------------------------------------------ the project


def test_the_apps_import_only_downwards_and_without_cycles():
    imports, modules = app_imports(ROOT, FLOORS)
    assert modules > 100, "the check read too few modules: is ROOT right?"
    assert imports, "no import between apps found: the check is blind"
    problems = report(imports, FLOORS)
    assert not problems, "\n" + problems


def test_every_app_of_the_project_has_a_floor():
    from django.apps import apps

    ours = {c.name for c in apps.get_app_configs() if Path(c.path).parent == ROOT}
    assert ours == set(FLOORS) - {"guichet"}, "an app without a floor in FLOORS"


# ------------------------------------------------------------------ the check itself


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_the_check_finds_planted_upward_imports_and_cycles(tmp_path):
    _tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/calendar.py": "from .models import Deadline\n",
            "schemes/__init__.py": "",
            "schemes/models.py": "from engine.calendar import period_end\n",
            "cases/__init__.py": "",
            "cases/lifecycle/__init__.py": "",
            # relative, and allowed: cases.models
            "cases/lifecycle/case.py": "from ..models import Case\n",
            # upward, hidden in a method: cases -> workflows
            "cases/models.py": """
                class Case:
                    def plan(self):
                        from workflows.definitions import plan_for
                        return plan_for(self)
            """,
            "cases/demo.py": """
                import importlib

                def build():
                    return importlib.import_module("notifications.alerts")
            """,
            "workflows/__init__.py": "",
            "workflows/hooks.py": "from cases.models import Case\n",
            "notifications/__init__.py": "",
            "notifications/api.py": "from guichet.api.serializers import ErrorSerializer\n",
            "web/__init__.py": "",
            "web/views.py": "from guichet import concurrency\n",
            "guichet/__init__.py": "",
            "guichet/api/__init__.py": "",
            "guichet/api/serializers.py": "from notifications.models import Notification\n",
            # not checked
            "cases/migrations/0001_initial.py": "from workflows import models\n",
        },
    )
    imports, modules = app_imports(tmp_path, FLOORS)
    assert modules == 18
    found = {(i.path, i.line, i.source, i.target) for i in upward(imports, FLOORS)}
    assert found == {
        ("cases/models.py", 4, "cases", "workflows"),
        ("cases/demo.py", 5, "cases", "notifications"),
        ("notifications/api.py", 1, "notifications", "guichet"),
        ("web/views.py", 1, "web", "guichet"),
    }
    assert cycles(imports) == [
        ["cases", "workflows", "cases"],
        ["guichet", "notifications", "guichet"],
    ]
    text = report(imports, FLOORS)
    assert "cycle: cases -> workflows -> cases" in text
    assert (
        "cases/models.py:4  cases (2) -> workflows (3): "
        "from workflows.definitions import plan_for" in text
    )


def test_relative_imports_resolve_to_their_package():
    assert _resolve("cases.lifecycle.case", False, 2, "models") == "cases.models"
    assert _resolve("cases.lifecycle", True, 1, "case") == "cases.lifecycle.case"
    assert _resolve("guichet.api.urls", False, 1, None) == "guichet.api"
    assert _resolve("web.views", False, 0, "engine.errors") == "engine.errors"

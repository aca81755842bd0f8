"""The project's import graph: no module imports itself round a circle, and courseware
(the site) never imports the course apps, which plug into it by name
(courseware.plugins). Every import counts, those inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("courseware", *(app for app in settings.COURSE_APPS if app != "courseware"))


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import mod` imports the module pkg.mod when there is one.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imported(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle_and_nothing_else():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_relative_and_lazy_imports():
    graph = import_graph()
    assert "labeling.fits" in graph["labeling.services"]  # from . import fits
    assert "labeling.class_view" in graph["labeling.services"]  # inside a function
    assert "courseware.content" in graph["labeling.catalog"]


def test_no_module_imports_itself_round_a_circle():
    assert cycles(import_graph()) == []


def test_courseware_never_imports_a_course_app():
    apps = tuple(f"{app}" for app in PACKAGES if app != "courseware")
    offending = {
        name: sorted(t for t in targets if t.split(".")[0] in apps)
        for name, targets in import_graph().items()
        if name.startswith("courseware")
    }
    assert {name: t for name, t in offending.items() if t} == {}


def test_no_app_imports_lti():
    """The LMS app plugs in through courseware.plugins (panels, services.attempt_graded):
    the quiz reports grades without knowing that an LMS exists."""
    offending = {
        name: sorted(t for t in targets if t.split(".")[0] == "lti")
        for name, targets in import_graph().items()
        if not name.startswith("lti")
    }
    assert {name: t for name, t in offending.items() if t} == {}

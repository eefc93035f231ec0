"""The package's shape: a rule leads to its code in one step, imports flow one way, and no
module or class grows past the size a reader can hold without saying why."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "trialreport"
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 200
# A module or class may be longer if a line near its top says why, starting so:
REASON = re.compile(r"^\s*Longer than \d+ lines because", re.M)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, known: set[str]) -> set[str]:
    """Every trialreport module a module imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("trialreport")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("trialreport"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return found & known


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(path, set(mods)) - {name} for name, path in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the directed graph as a list of nodes, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 40  # the walk found the package
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    # a late import counts as much as one at the top
    graph = import_graph()
    graph["trialreport.common.config"] = graph["trialreport.common.config"] | {
        "trialreport.analyse.ard"}
    assert find_cycle(graph) is not None


def test_the_stage_packages_import_nothing_at_their_top() -> None:
    """A stage's __init__ holds its docstring only, so importing one module of a stage does
    not load the others (every job is a new process)."""
    for path in PACKAGE.glob("*/__init__.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        body = [n for n in tree.body if not isinstance(n, ast.Expr)]
        assert body == [], f"{path.relative_to(ROOT)} does more than document its package"
        assert ast.get_docstring(tree), f"{path.relative_to(ROOT)} has no docstring"


def long_parts(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    found = []
    lines = len(text.splitlines())
    doc = ast.get_docstring(tree) or ""
    if lines > MAX_MODULE_LINES and not REASON.search(doc):
        found.append(f"{path.relative_to(ROOT)}: {lines} lines")
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            size = node.end_lineno - node.lineno + 1
            if size > MAX_CLASS_LINES and not REASON.search(ast.get_docstring(node) or ""):
                found.append(f"{path.relative_to(ROOT)}: class {node.name}, {size} lines")
    return found


def test_no_module_or_class_is_longer_than_a_reader_can_hold_without_a_reason() -> None:
    too_long = [part for path in PACKAGE.rglob("*.py") for part in long_parts(path)]
    assert too_long == []


def test_the_size_check_sees_a_long_module(tmp_path: Path) -> None:
    body = "\n".join(f"x{i} = {i}" for i in range(MAX_MODULE_LINES + 1))
    plain = PACKAGE / "_size_probe.py"
    try:
        plain.write_text('"""A probe."""\n' + body + "\n", encoding="utf-8")
        assert long_parts(plain)
        plain.write_text('"""A probe.\n\nLonger than 600 lines because it is a probe.\n"""\n'
                         + body + "\n", encoding="utf-8")
        assert long_parts(plain) == []
    finally:
        plain.unlink(missing_ok=True)


SCRIPT_IMPORT = re.compile(r"^from trialreport\.([\w.]+) import (\w+)", re.M)


@pytest.mark.parametrize("script", sorted((ROOT / "workflow" / "scripts").glob("*.py")),
                         ids=lambda p: p.stem)
def test_each_rule_script_calls_a_function_of_its_own_stage(script: Path) -> None:
    """workflow/scripts/<stage>.py imports its stage's function from trialreport.<stage>
    (the shared runner and config aside), so a rule leads to its code in one step."""
    stage = script.stem
    own = [(mod, name) for mod, name in SCRIPT_IMPORT.findall(script.read_text("utf-8"))
           if not mod.startswith("common.")]
    assert own, f"{script.name} calls no stage function"
    for mod, name in own:
        assert mod == stage or mod.startswith(f"{stage}."), f"{script.name}: {mod}.{name}"
        assert name in modules()[f"trialreport.{mod}"].read_text("utf-8")


README_ROW = re.compile(r"^\| `([\w`, ]+)` \| `trialreport\.([\w.]+)\.(\w+)` \| (.+) \|$", re.M)


def test_the_readme_layout_names_each_rules_function_and_its_folders_modules() -> None:
    """README.md's Layout table: for every rule of workflow/rules/, the function its script
    calls (which must exist there) and the modules of its folder (which must exist)."""
    import importlib

    rows = README_ROW.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    rules = {name for smk in (ROOT / "workflow" / "rules").glob("*.smk")
             for name in re.findall(r"^rule (\w+):", smk.read_text("utf-8"), re.M)}
    named = {r.strip("` ") for row in rows for r in row[0].split(",")}
    assert rules - {"all"} <= named, rules - named
    for _rules, module, function, holds in rows:
        assert hasattr(importlib.import_module(f"trialreport.{module}"), function)
        folder = (PACKAGE / module.replace(".", "/")).parent
        for name in re.findall(r"`([\w/]+\.py|\w+/)`", holds):
            assert (folder / name).exists(), f"README names {folder / name}, which is missing"

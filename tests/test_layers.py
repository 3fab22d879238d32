"""The package's imports are layered with no circle: core ← dialects ← QA controls and pages ← app factory.

Every module of oauth_sandbox is parsed with `ast` (imports inside functions count too).
"""
import ast
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path

PACKAGE = "oauth_sandbox"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE
# Above the dialects at the top level (they loop over them); every other top-level module is core.
ABOVE_DIALECTS = {f"{PACKAGE}.{name}" for name in ("factory", "envelope", "bootstrap", "cli", "command", "testing",
                                                     "pytest_plugin", "client")}
REGISTRY = f"{PACKAGE}.dialects"


def module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules():
    """Module name -> (source path, whether it is a package's __init__)."""
    return {module_name(path): (path, path.name == "__init__.py") for path in sorted(ROOT.rglob("*.py"))}


def parse(path):
    """The module's syntax tree, parsed in a thread of its own: CPython 3.11's parser can fail with "AST constructor
    recursion depth mismatch" in a thread where a RecursionError was caught before (the fuzz tests send deep JSON)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(ast.parse, path.read_text(), str(path)).result()


def imported_modules(name, path, is_package, known):
    """The modules of the package that `name` imports (`from a import b` means a.b when that is a module)."""
    here = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else node.module
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            if target in known:
                yield target, node.lineno


def import_graph():
    """Module -> {imported module: line}."""
    found = modules()
    graph = {}
    for name, (path, is_package) in found.items():
        graph[name] = {}
        for target, line in imported_modules(name, path, is_package, found):
            if target != name:
                graph[name].setdefault(target, line)
    return graph


def edge(graph, source, target):
    return f"{source} -> {target} (line {graph[source][target]})"


def find_cycle(graph):
    """One import circle as a list of modules, or None."""
    state = {}  # module -> "open" while on the path, "done" after

    def visit(module, path):
        state[module] = "open"
        for target in graph[module]:
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target, path + [target])
                if cycle:
                    return cycle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [module])
            if cycle:
                return cycle
    return None


def layer(module):
    if module.startswith(f"{PACKAGE}.dialects"):
        return "dialects"
    if module.startswith((f"{PACKAGE}.qa", f"{PACKAGE}.web")) or module in ABOVE_DIALECTS:
        return "above"
    return "core"


def edges(graph):
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            yield source, target


def test_no_import_circle():
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + "; ".join(edge(graph, a, b) for a, b in pairwise(cycle))


def test_dialects_import_neither_qa_web_nor_what_is_above_them():
    graph = import_graph()
    bad = [edge(graph, source, target) for source, target in edges(graph)
           if layer(source) == "dialects" and layer(target) == "above"]
    assert not bad, "a dialect imports from above the dialects: " + "; ".join(bad)


def test_qa_and_web_know_only_the_dialect_registry():
    graph = import_graph()
    bad = [edge(graph, source, target) for source, target in edges(graph)
           if source.startswith((f"{PACKAGE}.qa", f"{PACKAGE}.web")) and layer(target) == "dialects"
           and target != REGISTRY]
    assert not bad, "qa/ or web/ imports a dialect's module (ask the Dialect record instead): " + "; ".join(bad)


def test_core_imports_neither_dialects_qa_nor_web():
    graph = import_graph()
    bad = [edge(graph, source, target) for source, target in edges(graph)
           if layer(source) == "core" and layer(target) != "core"]
    assert not bad, "a core module imports from above the core: " + "; ".join(bad)


def test_the_graph_sees_relative_and_function_level_imports():
    """A check of the checker: edges this file must find, or the tests above prove nothing."""
    graph = import_graph()
    assert f"{PACKAGE}.dialects" in graph[f"{PACKAGE}.web.front"]  # from ..dialects import DIALECTS
    assert f"{PACKAGE}.models" in graph[f"{PACKAGE}.cli"]  # imported inside a command
    assert len(graph) > 40


def test_the_readme_layout_names_every_module():
    """README's Layout says what each module is, one line a module: a new module without its line fails here."""
    layout = (ROOT.parent / "README.md").read_text().split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    unnamed = [str(path.relative_to(ROOT)) for path in sorted(ROOT.rglob("*.py")) if path.name != "__init__.py"
               and f"`{path.name}`" not in layout and f"`{path.relative_to(ROOT)}`" not in layout]
    assert not unnamed, "modules the README's Layout does not name: " + ", ".join(unnamed)

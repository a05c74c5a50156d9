"""The package's layers hold (docs/architecture.md): `lint-imports` checks the order of the layers
(pyproject.toml); these tests check what it does not: no loop of more than two modules, counting
imports inside functions (only TYPE_CHECKING imports do not count), and a package root that
stays small."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "connectors"

# Loops of two modules that remain, each with its reason (none today; a new one is added here on purpose).
TWO_MODULE_LOOPS: dict[frozenset[str], str] = {}


def module_name(path):
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of_the_app():
    """{module: {module it imports}} over every import outside TYPE_CHECKING blocks. Importing a
    submodule runs its package first: that edge to one's own package is no dependency."""
    modules = {module_name(path): path for path in APP.rglob("*.py") if "migrations" not in path.parts}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text())
        type_checking = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
            for inner in ast.walk(node)
        }
        targets = set()
        for node in ast.walk(tree):
            if id(node) in type_checking:
                continue
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names if alias.name.startswith("connectors")]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                elif (node.module or "").startswith("connectors"):
                    module = node.module
                else:
                    continue
                submodules = [f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in modules]
                # `from package import module` depends on the module (the package runs first anyway).
                found = submodules or [module]
            else:
                continue
            for candidate in found:
                if candidate in modules and candidate != name and not name.startswith(candidate + "."):
                    targets.add(candidate)
        graph[name] = targets
    return graph


def loops(graph):
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_loop_of_more_than_two_modules():
    graph = imports_of_the_app()
    assert "connectors.core.token_state" in graph["connectors.models"]  # the graph was read
    found = loops(graph)
    assert all(len(loop) <= 2 for loop in found), [sorted(loop) for loop in found if len(loop) > 2]
    assert set(found) <= set(TWO_MODULE_LOOPS), [sorted(loop) for loop in found if loop not in TWO_MODULE_LOOPS]


def test_a_loop_is_found_when_there_is_one():
    # The check itself can fail: three modules in a ring are one loop, a chain is none.
    assert loops({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [frozenset("abc")]
    assert loops({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_package_root_holds_at_most_fifteen_modules():
    assert len(list(APP.glob("*.py"))) <= 15


def test_the_token_state_imports_nothing_of_the_app_but_its_settings():
    assert imports_of_the_app()["connectors.core.token_state"] == {"connectors.core.app_settings"}


def test_the_core_imports_nothing_above_it():
    graph = imports_of_the_app()
    for name, targets in graph.items():
        if name.startswith("connectors.core"):
            assert all(target.startswith("connectors.core") for target in targets), (name, targets)


def test_the_documented_token_api_paths_still_work():
    """README's "From code" paths keep working after the move (re-exported where they moved)."""
    from connectors import tokens
    from connectors.engine import tokens as engine_tokens
    from connectors.models import Connection

    assert tokens.get_access_token is engine_tokens.get_access_token
    assert tokens.access_token_for is engine_tokens.access_token_for
    assert tokens.session is engine_tokens.session
    assert callable(Connection.get_access_token) and callable(Connection.session)

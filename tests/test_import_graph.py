"""The app's modules import one another without a cycle (issue 11: the models, the token code
and the events imported each other, the cycle hidden by imports inside functions).

Imports inside functions count as much as module-level ones; only TYPE_CHECKING imports do not.
The few imports that reach up to a higher layer at call time are listed here with their reason:
a new one must be added here on purpose, and must not close a cycle of module-level imports."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "connectors"

# (importer, imported): why it reaches up at call time.
CALL_TIME_EDGES = {
    ("connectors.models", "connectors.tokens"): "Connection.get_access_token()/session(): the token API builds "
    "on the models and the model offers it as a convenience",
    ("connectors.models", "connectors.events"): "Event.__str__ names its action in the reader's language; the "
    "events module owns the action names and builds on the models",
    ("connectors.schedule", "connectors.tasks"): "enqueueing a task: the tasks module runs the worker code",
    ("connectors.bulk", "connectors.tasks"): "enqueueing the bulk test task",
    ("connectors.worker", "connectors.tasks"): "the sweep enqueues renewal batches",
}


def module_name(path):
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of_the_app():
    """{module: {module it imports}} over every import outside TYPE_CHECKING blocks."""
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
            if id(node) in type_checking or not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("connectors"):
                module = node.module
            else:
                continue
            for candidate in (module, *(f"{module}.{alias.name}" for alias in node.names)):
                if candidate in modules and candidate != name:
                    targets.add(candidate)
        graph[name] = targets
    return graph


def find_cycle(graph):
    state = {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target, [*path, target])
                if cycle:
                    return cycle
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node, [node])
            if cycle:
                return cycle
    return None


def test_no_import_cycle_apart_from_the_listed_call_time_imports():
    graph = imports_of_the_app()
    assert graph["connectors.models"] and graph["connectors.grants"]  # the graph was read
    for importer, imported in CALL_TIME_EDGES:
        assert imported in graph[importer], f"{importer} no longer imports {imported}: drop it from the list"
        graph[importer].discard(imported)
    cycle = find_cycle(graph)
    assert cycle is None, " → ".join(cycle)


def test_the_token_state_imports_nothing_of_the_app_but_its_settings():
    assert imports_of_the_app()["connectors.token_state"] == {"connectors.app_settings"}

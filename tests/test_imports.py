"""The package's shape, read from its imports: layers that import only downwards, no cycle
among modules (an import inside a function counts: it runs), and each third-party library
confined to the module or package that speaks to it.

Imports under `if TYPE_CHECKING:` do not run and are left out (but no cycle runs through them
either); so are a module's imports of its own parent packages, which Python runs first
whatever the module imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "arrears"

# Each top-level part of the package, and its layer: a part imports only parts of lower layers.
# dsl -> rules -> program -> engine -> tools -> api/service -> cli, never back.
LAYERS: dict[str, int] = {
    "textsafe": 0,
    "diagnostics": 1,
    "outputs": 2,
    "dsl": 2,
    "rules": 3,
    "program": 4,
    "documents": 4,
    "engine": 5,
    "results": 6,
    "lint": 6,
    "letters": 6,
    "replay": 6,
    "api": 7,
    "arrears": 8,  # the package itself: its version and the API it re-exports
    "service": 9,
    "cli": 10,
    "__main__": 11,  # `python -m arrears`: the command line
}

# A third-party library, and the only places that import it (a file, or a folder and all below).
CONFINED: list[tuple[str, tuple[str, ...]]] = [
    ("lark", ("dsl/parser.py",)),
    ("click", ("cli/",)),
    ("z3", ("lint/smt.py",)),
    ("sqlglot", ("engine/sql/",)),
    ("duckdb", ("engine/sql/duck.py",)),
    ("pyspark", ("engine/sql/spark.py", "engine/sql/spark_paths.py")),
    ("jinja2", ("letters/",)),
    ("fastapi", ("service/",)),
    ("starlette", ("service/",)),
    ("uvicorn", ("service/",)),
]


def _name(path: Path) -> str:
    parts = ["arrears", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, typing: bool = False) -> Iterator[str]:
    """Every module name an import that runs names, anywhere in the tree (functions included);
    with `typing`, also those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking(node.test) and not typing:
            for other in node.orelse:
                yield from _imported(other)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` imports the module; `from module import name`, the module.
            subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES]
            yield from subs
            if len(subs) < len(node.names):
                yield node.module
        yield from _imported(node, typing)


TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}
IMPORTS = {name: set(_imported(tree)) for name, tree in TREES.items()}


def _edges(typing: bool = False) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, its own parent packages left out; with
    `typing`, counting the imports for type checking too."""
    imports = {name: set(_imported(tree, True)) for name, tree in TREES.items()} if typing else IMPORTS
    return {
        name: {t for t in targets if t in MODULES and t != name and not name.startswith(t + ".")}
        for name, targets in imports.items()
    }


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as its modules in order, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str], on_path: set[str]) -> list[str] | None:
        for target in sorted(edges[node]):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done:
                found = visit(target, [*path, target], on_path | {target})
                if found:
                    return found
        done.add(node)
        return None

    for start in sorted(edges):
        if start not in done and (found := visit(start, [start], {start})):
            return found
    return None


def test_every_part_of_the_package_has_a_layer() -> None:
    assert {_part(m) for m in MODULES} == set(LAYERS)


def test_parts_import_only_lower_layers() -> None:
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in _edges().items()
        for target in targets
        if _part(module) != _part(target) and LAYERS[_part(target)] >= LAYERS[_part(module)]
    )
    assert upward == []


def test_no_cycle_among_modules() -> None:
    assert _cycle(_edges()) is None


def test_no_cycle_even_through_imports_for_type_checking() -> None:
    """A helper typed against the module that calls it would close a cycle for the reader, if
    not for Python: the translators' helpers are typed against protocols (`translating.py`)."""
    assert _cycle(_edges(typing=True)) is None


def test_a_cycle_through_an_import_inside_a_function_is_found() -> None:
    """The check itself: an import inside a function closes a cycle as any other does."""
    tree = ast.parse("def later() -> None:\n    from arrears.engine.snapshot import bind\n")
    edges = {"arrears.engine.snapshot": {"arrears.dsl.types"}, "arrears.dsl.types": set()}
    edges["arrears.dsl.types"] = {t for t in _imported(tree) if t in MODULES}
    assert _cycle(edges) == ["arrears.dsl.types", "arrears.engine.snapshot", "arrears.dsl.types"]


def test_an_import_for_type_checking_only_is_left_out() -> None:
    tree = ast.parse("if TYPE_CHECKING:\n    from arrears.engine.snapshot import Snapshot\nimport arrears.dsl\n")
    assert set(_imported(tree)) == {"arrears.dsl"}
    assert set(_imported(tree, typing=True)) == {"arrears.engine.snapshot", "arrears.dsl"}


@pytest.mark.parametrize(("library", "places"), CONFINED, ids=[library for library, _ in CONFINED])
def test_a_library_is_imported_only_where_it_is_spoken_to(library: str, places: tuple[str, ...]) -> None:
    importers = sorted(
        str(MODULES[m].relative_to(ROOT))
        for m, names in IMPORTS.items()
        if any(n == library or n.startswith(library + ".") for n in names)
    )
    assert importers, f"nothing imports {library}: the table is out of date"
    assert [p for p in importers if not any(p == place or p.startswith(place) for place in places)] == []

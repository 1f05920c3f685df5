"""The package's layout: imports flow one way, from the command line down to the kernels, with
no import circles, and the stable public modules re-export their sources unchanged."""

import ast
import importlib
from pathlib import Path

import indexnet

PACKAGE = Path(indexnet.__file__).resolve().parent

ROOMS = {
    "cli": 4,
    "api": 3,
    "reading": 3,
    "data": 3,
    "twins": 2,
    "kernels": 1,
    "fast": 1,
    "checks": 1,
}
"""How high each room stands: a module imports nothing from a higher room. The equations, the
speed machinery and the checks share the ground floor, where the module graph alone must have
no circle (the loops call the blocked products and the shape checks; the parallel backend and
the compiled entry are built from the loops)."""

PUBLIC = {
    "loops": ("kernels.loops", "kernels.conv"),
    "loops_parallel": ("fast.loops_parallel",),
    "vectorized": ("twins.vectorized", "twins.vectorized_conv"),
    "activations": ("kernels.activations",),
    "layout": ("kernels.layout",),
    "sklearn": ("api.sklearn",),
}
"""The stable public modules and the modules each re-exports, in order."""


def module_name(path):
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    """The package's modules that ``path`` imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("indexnet"):
            base = node.module.removeprefix("indexnet").lstrip(".")
            for alias in node.names:  # ``from indexnet.fast import blocking`` names a module
                candidate = f"{base}.{alias.name}".lstrip(".")
                found.add(candidate if candidate in MODULES else base)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("indexnet."):
                    found.add(alias.name.removeprefix("indexnet."))
    return {name for name in found if name in MODULES}


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
GRAPH = {name: imports(path) - {name} for name, path in MODULES.items()}


def room(name):
    return ROOMS.get(name.split(".")[0])


def test_every_module_has_a_room_or_is_a_public_face():
    for name in MODULES:
        assert room(name) is not None or name in {"", "__main__", *PUBLIC}, name


def test_no_module_imports_a_higher_room():
    for name, imported in GRAPH.items():
        if room(name) is None:
            continue
        higher = sorted(other for other in imported if (room(other) or 0) > room(name))
        assert not higher, f"indexnet.{name} imports {higher}, which stand above it"


def test_there_are_no_import_circles():
    # Depth-first search for a path back to where it started.
    def reaches(start, target, seen):
        for other in GRAPH[start]:
            if other == target:
                return [other]
            if other not in seen:
                seen.add(other)
                path = reaches(other, target, seen)
                if path:
                    return [other, *path]
        return None

    for name in GRAPH:
        path = reaches(name, name, set())
        assert path is None, "import circle: " + " -> ".join(["indexnet." + name, *path])


def test_the_public_modules_reexport_their_sources():
    for public, sources in PUBLIC.items():
        face = importlib.import_module(f"indexnet.{public}")
        modules = [importlib.import_module(f"indexnet.{source}") for source in sources]
        assert face.__all__ == [name for module in modules for name in module.__all__]
        for module in modules:
            for name in module.__all__:
                assert getattr(face, name) is getattr(module, name), f"indexnet.{public}.{name}"
        rooms = {part for source in sources for part in (source, source.split(".")[0])}
        assert GRAPH[public] <= rooms, GRAPH[public]

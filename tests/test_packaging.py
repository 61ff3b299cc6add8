"""What the code imports is what the project declares, and what it declares is pinned.

A package imported but not declared installs only by luck (as a dependency of another one) and breaks
the day that one drops it; a declared package missing from constraints.txt installs whatever version is
newest that day."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ["credit_platform", "customers", "receivables", "scoring", "alerts", "limits", "onboarding"]
# The project's own top-level modules, the benchmark scripts included (they import one another).
PROJECT_MODULES = set(PRODUCT) | {"tests", "manage"} | {p.stem for p in (ROOT / "bench").glob("*.py")}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    return _normal(re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0])


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _imports(folders: list[str]) -> set[str]:
    found: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in PROJECT_MODULES}


def _distributions(modules: set[str]) -> dict[str, set[str]]:
    """Distributions providing each module; a module not installed here (a benchmark peer outside
    ``make dev-install``) is taken to be its own distribution's name, as lightgbm and optbinning are."""
    mapping = packages_distributions()
    return {m: {_normal(d) for d in mapping.get(m, [])} or {_normal(m)} for m in modules}


def test_every_package_the_product_imports_is_a_declared_dependency():
    declared = {_requirement_name(r) for r in _project()["dependencies"]}
    folders = [p for p in PRODUCT if (ROOT / p).is_dir()]
    undeclared = {m: d for m, d in _distributions(_imports(folders)).items() if not d & declared}
    assert not undeclared, f"imported by the product but not in [project].dependencies: {undeclared}"


def test_every_package_the_tests_and_benchmarks_import_is_declared():
    project = _project()
    declared = {_requirement_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        declared |= {_requirement_name(r) for r in extra}
    undeclared = {m: d for m, d in _distributions(_imports(["tests", "bench"])).items() if not d & declared}
    assert not undeclared, f"imported by tests or benchmarks but not declared: {undeclared}"


def test_every_declared_dependency_is_pinned_in_the_constraints_file_at_its_version():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_normal(name)] = version.strip()
    project = _project()
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    for spec in specs:
        name = _requirement_name(spec)
        assert name in pins, f"{spec} is declared but not pinned in constraints.txt (run 'make constraints')"
        wanted = re.search(r"==\s*([^;,\s]+)", spec)
        if wanted:
            assert pins[name] == wanted.group(1), f"{spec} but constraints.txt pins {name}=={pins[name]}"


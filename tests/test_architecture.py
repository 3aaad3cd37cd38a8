"""Team rules as tests: the dependency direction of architecture.md and who may import arq."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("enforcement", "connectors", "auction", "blacklist")
COMPOSITION_ROOTS = {
    "enforcement.app",
    "enforcement.worker",
    "enforcement.cli",
    "enforcement.domains",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


MODULES = {
    _module_name(path): _imports(path)
    for package in PACKAGES
    for path in (ROOT / package).rglob("*.py")
}


def _offenders(source_prefix: str, forbidden: tuple[str, ...]) -> list[tuple[str, str]]:
    return sorted(
        (module, imported)
        for module, imports in MODULES.items()
        if module == source_prefix or module.startswith(source_prefix + ".")
        for imported in imports
        if any(imported == f or imported.startswith(f + ".") for f in forbidden)
    )


def test_modules_were_found():
    assert "enforcement.core.jobs" in MODULES
    assert "connectors.base" in MODULES
    assert len(MODULES) > 60


def test_only_the_jobs_facade_and_the_worker_import_arq():
    users = {
        m
        for m, imports in MODULES.items()
        if any(i == "arq" or i.startswith("arq.") for i in imports)
    }
    assert users <= {"enforcement.core.jobs", "enforcement.worker"}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("connectors", ("enforcement", "auction", "blacklist")),
        ("enforcement.core", ("enforcement.cases", "enforcement.assets", "auction", "blacklist")),
        ("enforcement.cases", ("enforcement.assets", "auction", "blacklist")),
        ("enforcement.assets", ("auction", "blacklist")),
        ("auction", ("blacklist",)),
        ("blacklist", ("auction",)),
    ],
)
def test_dependency_direction(package, forbidden):
    assert _offenders(package, forbidden) == []


def test_nothing_imports_a_composition_root():
    offenders = sorted(
        (module, imported)
        for module, imports in MODULES.items()
        if module not in COMPOSITION_ROOTS
        for imported in imports
        if imported in COMPOSITION_ROOTS
    )
    assert offenders == []

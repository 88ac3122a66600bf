"""Architecture: rules modules stay pure (no Flask, no SQLAlchemy)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "bdg_training"
FORBIDDEN = ("flask", "sqlalchemy", "flask_sqlalchemy", "werkzeug")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _rule_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("rules.py")) + [PACKAGE / "rules_base.py", PACKAGE / "text.py", PACKAGE / "vn.py"]


def test_there_are_rule_modules_to_check():
    assert len(_rule_modules()) >= 4


def test_no_rules_module_imports_flask_or_sqlalchemy():
    offenders = {str(p.relative_to(PACKAGE)): sorted(_imports(p) & set(FORBIDDEN)) for p in _rule_modules() if p.exists()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_rules_modules_import_only_pure_project_modules():
    for path in _rule_modules():
        if not path.exists():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bdg_training"):
                target = node.module.split(".")
                assert target[-1] in {"rules", "rules_base", "text", "vn", "ethnicity"}, f"{path}: imports {node.module}"

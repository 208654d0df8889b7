"""Structural checks of the scripts in examples/ (they are run by users, rarely by the suite)."""

from __future__ import annotations

import ast
import os

import pytest

_EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples")
_SCRIPTS = sorted(f for f in os.listdir(_EXAMPLES) if f.endswith(".py"))


def _is_main_guard(node: ast.stmt) -> bool:
    """`if __name__ == "__main__":`."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    return (
        isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def flag_definitions_at_import(source: str) -> list[int]:
    """Lines of `flags.DEFINE_*` / `mark_flag*` calls that run when the module is imported.

    Calls inside functions and under `if __name__ == "__main__":` do not run at import.
    """
    lines = []
    for stmt in ast.parse(source).body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if _is_main_guard(stmt):
            continue
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and (node.func.attr.startswith("DEFINE") or node.func.attr.startswith("mark_flag"))
            ):
                lines.append(node.lineno)
    return lines


def test_the_scan_finds_module_level_definitions_and_skips_guarded_ones():
    source = (
        "from absl import flags\n"
        "X = flags.DEFINE_string('x', None, 'x')\n"
        "def f():\n    flags.DEFINE_string('y', None, 'y')\n"
        "if __name__ == '__main__':\n    flags.DEFINE_string('z', None, 'z')\n"
        "if True:\n    flags.mark_flag_as_required('x')\n"
    )
    assert flag_definitions_at_import(source) == [2, 8]


def test_there_are_examples_to_check():
    assert len(_SCRIPTS) >= 5, _SCRIPTS


@pytest.mark.parametrize("script", _SCRIPTS)
def test_examples_define_their_flags_only_when_run(script):
    # absl refuses a flag defined twice: an example that defines --logdir at import breaks any
    # process that also imports an entry point (it broke 49 tests once, commit 9f29805).
    with open(os.path.join(_EXAMPLES, script), encoding="utf-8") as f:
        lines = flag_definitions_at_import(f.read())
    assert not lines, f"examples/{script} defines absl flags at import, lines {lines}"

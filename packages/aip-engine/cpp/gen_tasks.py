"""Write the C++ header aip/task_table.h from the task declarations (run by CMake at configure time).

    python cpp/gen_tasks.py src/aip_engine/tasks.toml BUILD/generated/aip/task_table.h

The parsing and checking are aip_engine._task_decl's (standard library only), loaded from its file so
that the package need not be built or importable yet. The header is rewritten only when it changes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Write the header; return the exit status (1 with a message on stderr for bad declarations)."""
    if len(argv) != 3:
        print("usage: gen_tasks.py TASKS_TOML OUTPUT_HEADER", file=sys.stderr)
        return 2
    source, output = Path(argv[1]), Path(argv[2])
    module_path = source.parent / "_task_decl.py"
    spec = importlib.util.spec_from_file_location("_aip_task_decl", module_path)
    if spec is None or spec.loader is None:
        print(f"gen_tasks.py: cannot load {module_path}", file=sys.stderr)
        return 1
    decl = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = decl  # dataclasses look the module up by name
    spec.loader.exec_module(decl)
    try:
        text = decl.c_header(decl.parse(source.read_text(encoding="utf-8"), str(source)))
    except (OSError, decl.TaskDeclError) as exc:
        print(f"gen_tasks.py: {exc}", file=sys.stderr)
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    if not output.exists() or output.read_text(encoding="utf-8") != text:
        output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""``python -m mmrqa.docs [FILE...]``: rewrite the generated sections of each file (default ``README.md``)."""

from __future__ import annotations

import sys
from pathlib import Path

from mmrqa.docs import render_generated
from mmrqa.fileio import write_text_atomic


def main(argv: list[str] | None = None) -> int:
    paths = (argv if argv is not None else sys.argv[1:]) or ["README.md"]
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        updated = render_generated(text)
        if updated != text:
            write_text_atomic(path, updated)
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

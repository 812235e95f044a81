"""``make demo``: load every offline sample scan and print its summary (grows into the release pipeline)."""

from __future__ import annotations

import logging
import sys

from mmrqa.data import SAMPLES, load_sample
from mmrqa.errors import MMRQAError
from mmrqa.io import format_summary, summarize


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    failed = 0
    for name, description in SAMPLES.items():
        print(f"== sample {name}: {description}")
        try:
            print(format_summary(summarize(load_sample(name))), flush=True)
        except MMRQAError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

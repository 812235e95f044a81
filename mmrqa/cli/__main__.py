"""``python -m mmrqa.cli``: the same as the ``mmrqa`` console script."""

import sys

from mmrqa.cli import main

sys.exit(main())

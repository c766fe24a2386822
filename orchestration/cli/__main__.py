"""`python -m orchestration.cli`: the same as `data-factory` (tests start it so, in a fresh interpreter)."""

import sys

from orchestration.cli import main

sys.exit(main())

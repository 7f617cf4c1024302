"""`python -m scripts.spec_diff`: what `nox -s spec-diff` runs."""

import sys

from scripts.spec_diff._cli import main

sys.exit(main())

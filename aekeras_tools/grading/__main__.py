"""`python -m aekeras_tools.grading`: see cli.py."""

import sys

from aekeras_tools.grading.cli import main

sys.exit(main())

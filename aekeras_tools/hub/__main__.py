"""`python -m aekeras_tools.hub`: see cli.py."""

import sys

from aekeras_tools.hub.cli import main

sys.exit(main())

"""``python -m personsvc``: the export and import commands."""

import sys

from personsvc.cli import main

sys.exit(main())

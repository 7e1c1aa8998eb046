"""Start personsvc: ``python run.py --help`` lists the settings."""

import sys

from personsvc.server import main

if __name__ == "__main__":
    sys.exit(main())

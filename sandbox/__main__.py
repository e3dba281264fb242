"""``python -m supersms.sandbox``: the same as ``supersms sandbox``."""

import sys

from supersms.sandbox.command import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

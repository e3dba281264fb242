import sys

from supersms.cli.main import main

sys.exit(main())

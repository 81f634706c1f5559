import sys

from arrears.cli import main

sys.exit(main())

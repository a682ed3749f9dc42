import sys

from tenancy.cli import main

sys.exit(main())

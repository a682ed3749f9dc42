# Ctrl-C and SIGTERM are handled before anything else is imported, so that even a signal during start-up exits
# 130 / 143 with one line (tenancy.signals).
from tenancy import signals

signals.install()

import sys  # noqa: E402

from tenancy.cli import main  # noqa: E402

sys.exit(main())

"""Make the repository root importable: `venv/bin/pytest` does not put it on sys.path and nothing is installed."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

"""`make serve`: serve/local.py from a checkout (installed: `imbalanced-serve`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serve.local import main  # noqa: E402 - after the checkout is on the path

if __name__ == "__main__":
    sys.exit(main())

"""``python -m app``: DTMS Desk, as ``dtms-desk`` (the same flags)."""

import sys

from app.main import main

sys.exit(main())

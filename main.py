"""DTMS Desk from a source checkout: ``python main.py`` (window) or ``python main.py --headless``.

Installed, the same program is the ``dtms-desk`` command (``dtms-desk-cli`` for a console), or ``python -m app``.
"""

import sys

from app.main import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m callcenter_sdk.cli``: the ``callcenter`` command without its script."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":  # importing the module (a walk of the package) runs nothing
    sys.exit(main())

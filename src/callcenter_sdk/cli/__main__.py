"""``python -m callcenter_sdk.cli``: the ``callcenter`` command without its script."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())

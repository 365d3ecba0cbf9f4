from __future__ import annotations

import sys

from storyboard.cli.main import main

sys.exit(main())

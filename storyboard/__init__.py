"""storyboard: a declarative storyboard file in, a finished film out (Runware / Sora 2)."""

from __future__ import annotations

__version__ = "0.1.0"

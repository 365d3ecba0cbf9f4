"""Money as the user reads it."""

from __future__ import annotations

import math


def usd(dollars: float) -> str:
    """``$X.XX``; under half a cent (a spoken line), ``$0.0003``, and to its first digit below
    that (``$0.00004``, a ten-character line): never a price shown as $0.00 or $0.0000
    (hostile helpers 58 and 61)."""
    if 0 < dollars < 0.005:
        places = max(4, -math.floor(math.log10(dollars)))
        return f"${dollars:.{places}f}"
    return f"${dollars:.2f}"

"""Tables of the auction domain."""

from __future__ import annotations

"""Tables of the assets domain."""

from __future__ import annotations

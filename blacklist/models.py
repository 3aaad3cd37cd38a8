"""Tables of the blacklist domain."""

from __future__ import annotations

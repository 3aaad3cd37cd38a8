"""Jobs of the auction domain (registered with ``enforcement.core.jobs.job``)."""

from __future__ import annotations

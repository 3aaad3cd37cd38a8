"""Jobs of the blacklist domain (registered with ``enforcement.core.jobs.job``)."""

from __future__ import annotations

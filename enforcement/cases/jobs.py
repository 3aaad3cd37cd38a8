"""Case jobs: none yet; overdue cases are computed on read from the service clock."""

from __future__ import annotations

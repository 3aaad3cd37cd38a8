"""Kernel shared by every domain: settings, db, clock, auth, audit, errors, money, ids, jobs."""

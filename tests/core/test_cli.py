"""The `enforcement` command as an operator runs it: migrate, keys, demo, audit verify."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).with_name("enforcement")


def _run(db_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENFORCEMENT_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}"}
    env.pop("ENFORCEMENT_REDIS_URL", None)
    return subprocess.run(
        [str(BIN), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "cli.db"
    result = _run(path, "migrate")
    assert result.returncode == 0, result.stderr
    return path


def test_keys_create_prints_token_last_and_stores_only_its_hash(cli_db):
    result = _run(
        cli_db, "keys", "create", "--role", "officer", "--court", "甘0602", "--name", "张"
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("ee_")
    assert len(token) > 40
    with sqlite3.connect(cli_db) as connection:
        rows = connection.execute("select token_hash, role, court_code from api_tokens").fetchall()
    assert token not in {r[0] for r in rows}
    assert ("officer", "甘0602") in {(r[1], r[2]) for r in rows}


def test_officer_token_needs_a_court(cli_db):
    result = _run(cli_db, "keys", "create", "--role", "officer")
    assert result.returncode != 0


def test_demo_then_audit_verify_detects_tampering(cli_db):
    demo = _run(cli_db, "demo", "--cases", "6")
    assert demo.returncode == 0, demo.stderr
    assert "6 cases created" in demo.stdout
    again = _run(cli_db, "demo", "--cases", "6")
    assert "0 cases created" in again.stdout
    with sqlite3.connect(cli_db) as connection:  # case 2 (index 1): a defaulter, listed once
        listed = connection.execute("select kind, status from listings order by id").fetchall()
    assert listed == [("dishonest", "active"), ("restricted", "active")]
    ok = _run(cli_db, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    with sqlite3.connect(cli_db) as connection:
        connection.execute("update audit_log set actor = 'mallory' where seq = 2")
    broken = _run(cli_db, "audit", "verify")
    assert broken.returncode == 1
    assert "record 2 was changed" in broken.stderr

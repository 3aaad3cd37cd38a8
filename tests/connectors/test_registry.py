"""Plugin discovery through entry points, and building connectors from raw configuration."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from connectors.bank import BankConnector
from connectors.base import Connector
from connectors.registry import PluginError, build_connectors, discover
from connectors.settings import MOCK_REGISTRIES_URL

from .conftest import PLUGINS

BUILT_IN = """\
[enforcement.connectors]
bank = connectors.bank:BankConnector
vehicle = connectors.vehicle:VehicleConnector
securities = connectors.securities:SecuritiesConnector
business = connectors.business:BusinessConnector
"""


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry_points: str) -> None:
    """Register entry points the way an installed distribution does (a .dist-info on sys.path)."""
    dist = tmp_path / "plugin_under_test-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin-under-test\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(entry_points)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_discover_finds_registered_connectors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, monkeypatch, BUILT_IN)
    found = discover()
    assert found["bank"] is BankConnector
    assert set(found) >= set(PLUGINS)


def test_a_plugin_that_fails_to_load_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, monkeypatch, "[enforcement.connectors]\nland = no_such_module:Land\n")
    with pytest.raises(PluginError, match="land"):
        discover()


def test_a_plugin_that_is_not_a_connector_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, monkeypatch, "[enforcement.connectors]\nodd = json:dumps\n")
    with pytest.raises(PluginError, match="odd"):
        discover()


async def test_build_uses_defaults_and_skips_disabled() -> None:
    connectors = build_connectors(
        {"VEHICLE": {"enabled": False}, "bank": {"rate_limit_per_second": 5}}, plugins=PLUGINS
    )
    try:
        assert set(connectors) == {"bank", "securities", "business"}
        assert all(isinstance(c, Connector) for c in connectors.values())
        bank = connectors["bank"]
        assert isinstance(bank, BankConnector)
        assert bank.settings.base_url == f"{MOCK_REGISTRIES_URL}/bank"
        assert bank.settings.rate_limit_per_second == 5
    finally:
        await connectors.aclose()


def test_unknown_registry_or_setting_is_an_error() -> None:
    with pytest.raises(PluginError, match="land"):
        build_connectors({"land": {}}, plugins=PLUGINS)
    with pytest.raises(ValueError, match="base_ulr"):
        build_connectors({"bank": {"base_ulr": "http://x"}}, plugins=PLUGINS)


async def test_build_from_installed_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tmp_path, monkeypatch, BUILT_IN)
    connectors = build_connectors({})
    try:
        assert set(connectors) >= set(PLUGINS)
    finally:
        await connectors.aclose()
    assert str(tmp_path) in sys.path

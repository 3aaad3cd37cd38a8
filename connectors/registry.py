"""Find connector plugins (entry-point group ``enforcement.connectors``) and build them.

A registry is added by installing a package that registers a class under that group; the
class carries its ``name`` and a ``settings_model`` (a ``ConnectorSettings`` subclass) and is
constructed as ``cls(settings, http)`` with a ``connectors.http.RegistryClient``. A
plugin that fails to load fails start-up loudly: silently missing a bank is worse than not
starting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

import httpx
from redis.asyncio import Redis

from connectors.base import Connector
from connectors.http import LocalRateLimiter, RateLimiter, RedisRateLimiter, RegistryClient
from connectors.settings import ConnectorSettings

GROUP = "enforcement.connectors"
REQUIRED = ("query", "submit_query", "fetch_query", "freeze", "release", "deduct")
TransportFactory = Callable[[str, ConnectorSettings], httpx.AsyncBaseTransport]

log = logging.getLogger(__name__)


class PluginError(RuntimeError):
    """A connector plugin could not be loaded, is not a connector, or is misconfigured."""


def discover(group: str = GROUP) -> dict[str, type]:
    """Load every connector class registered under ``group``, keyed by entry-point name."""
    found: dict[str, type] = {}
    sources: dict[str, str] = {}
    for ep in entry_points(group=group):
        if ep.name in sources and sources[ep.name] != ep.value:
            raise PluginError(
                f"connector {ep.name!r} registered twice: {sources[ep.name]}, {ep.value}"
            )
        try:
            cls = ep.load()
        except Exception as exc:
            raise PluginError(
                f"connector {ep.name!r} ({ep.value}) failed to load: {exc!r}"
            ) from exc
        missing = [m for m in REQUIRED if not callable(getattr(cls, m, None))]
        if not isinstance(cls, type) or missing:
            raise PluginError(f"connector {ep.name!r} ({ep.value}) lacks {missing or 'a class'}")
        found[ep.name], sources[ep.name] = cls, ep.value
    return found


class ConnectorMap(dict[str, Connector]):
    """The enabled connectors by registry name; ``aclose`` closes their HTTP transports."""

    async def aclose(self) -> None:
        """Close every connector's HTTP transport."""
        for connector in self.values():
            close = getattr(connector, "aclose", None)
            if close is not None:
                await close()


def build_connectors(
    config: Mapping[str, Mapping[str, Any]],
    *,
    transport_factory: TransportFactory | None = None,
    redis: Redis | None = None,
    plugins: Mapping[str, type] | None = None,
) -> ConnectorMap:
    """Build every discovered connector that its config (defaults if absent) leaves enabled.

    ``config`` maps registry name to raw settings (validated by the plugin's settings model);
    naming a registry that no plugin provides is an error. ``transport_factory(name, settings)``
    injects an httpx transport (tests: ``ASGITransport``, ``MockTransport``); the connector
    owns and closes it. With ``redis``, each registry's rate limit is shared by all
    workers (key ``connectors:rate:<name>``); otherwise it is per process.
    """
    plugins = discover() if plugins is None else plugins
    config = {name.lower(): raw for name, raw in config.items()}
    unknown = sorted(set(config) - set(plugins))
    if unknown:
        raise PluginError(f"no connector plugin for {unknown}; installed: {sorted(plugins)}")
    if not plugins:
        log.warning("no connector plugins found in %s; is the package installed?", GROUP)
    connectors = ConnectorMap()
    for name, cls in plugins.items():
        model: type[ConnectorSettings] = getattr(cls, "settings_model", ConnectorSettings)
        settings = model.model_validate(dict(config.get(name, {})))
        if not settings.enabled:
            continue
        limiter: RateLimiter
        if redis is not None:
            limiter = RedisRateLimiter(
                redis,
                f"connectors:rate:{name}",
                settings.rate_limit_per_second,
                settings.rate_limit_burst,
            )
        else:
            limiter = LocalRateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
        transport = transport_factory(name, settings) if transport_factory else None
        http = RegistryClient(name, settings, transport=transport, limiter=limiter)
        connectors[name] = cls(settings, http)
    return connectors

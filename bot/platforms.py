"""How adapters plug into the processes: one ``platform_plugin(settings)`` per adapter module.

The hook (for adapter authors): a module in :data:`ADAPTER_MODULES` defines ::

    def platform_plugin(settings: Settings) -> PlatformPlugin: ...

returning an object with the attributes of :class:`PlatformPlugin`. ``nexus serve`` and
``nexus dev`` call ``install_routes(app, intake)`` (add ``/slack/events`` etc. to the
one aiohttp app), then ``start(intake)`` (socket mode, gateway) and finally ``close()``.
``nexus worker`` only uses ``io()`` (fetcher + sender) for the worker's registry.

A platform whose credentials are absent reports ``configured = False`` and a one-line
``status`` (shown by ``/readyz`` and the startup log); it is not started.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

from aiohttp import web

from core.events import Platform
from core.logging import get_logger
from core.ports import Intake, PlatformIO, PlatformRegistry
from core.settings import Settings

log = get_logger("platforms")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ADAPTER_MODULES = ("adapters.slack", "adapters.discord", "adapters.teams", "adapters.playground")


class PlatformPlugin(Protocol):
    platform: str
    configured: bool
    status: str
    """One line: ``slack: HTTP events at /slack/events`` or ``slack: not configured (...)``."""

    def io(self) -> PlatformIO: ...

    def install_routes(self, app: web.Application, intake: Intake) -> None: ...

    async def start(self, intake: Intake) -> None: ...

    async def close(self) -> None: ...


@dataclass
class StaticPlugin:
    """A plugin with fixed I/O and optional routes (tests, simple adapters)."""

    platform: str
    platform_io: PlatformIO | None = None
    routes: list[tuple[str, str, Handler]] = field(default_factory=list)
    status: str = ""

    def __post_init__(self) -> None:
        self.configured = self.platform_io is not None
        if not self.status:
            state = "configured" if self.configured else "not configured"
            self.status = f"{self.platform}: {state}"

    def io(self) -> PlatformIO:
        if self.platform_io is None:
            raise LookupError(f"{self.platform} is not configured")
        return self.platform_io

    def install_routes(self, app: web.Application, intake: Intake) -> None:
        for method, path, handler in self.routes:
            app.router.add_route(method, path, handler)

    async def start(self, intake: Intake) -> None:
        return None

    async def close(self) -> None:
        return None


def load_plugins(
    settings: Settings, modules: Sequence[str] = ADAPTER_MODULES
) -> list[PlatformPlugin]:
    """The plugin of every adapter module that exists and offers ``platform_plugin``."""
    plugins: list[PlatformPlugin] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise  # the adapter exists but a dependency of it is missing: say so
            plugins.append(StaticPlugin(name.rsplit(".", 1)[-1], status=f"{name}: not installed"))
            continue
        factory = getattr(module, "platform_plugin", None)
        if factory is None:
            short = name.rsplit(".", 1)[-1]
            plugins.append(StaticPlugin(short, status=f"{short}: adapter offers no plugin yet"))
            continue
        plugins.append(cast(PlatformPlugin, factory(settings)))
    return plugins


def build_registry(plugins: Sequence[PlatformPlugin]) -> PlatformRegistry:
    """The worker's view: fetcher and sender of every configured platform."""
    registry = PlatformRegistry()
    for plugin in plugins:
        if plugin.configured:
            registry.register(cast(Platform, plugin.platform), plugin.io())
    return registry

"""Finding, hardening and driving the Chromium that renders charts.

Nothing here downloads a browser: kaleido's ``get_chrome`` fetches from the internet,
which production hosts (and CI) cannot reach, and a silently downloaded browser would
be an unpinned binary. Operators install Debian's ``chromium`` or set ``BROWSER_PATH``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import kaleido
from choreographer.browsers.chromium import Chromium

from core.logging import get_logger

log = get_logger("charts")

# Searched in order when neither an explicit path nor BROWSER_PATH is given.
_BROWSER_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome-stable",
    "google-chrome",
    "chrome",
)
_TYPICAL_PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome-stable",
    "/usr/bin/google-chrome",
    "/opt/google/chrome/chrome",
)

INSTALL_HINT = "install it with `apt-get install chromium` or set BROWSER_PATH"

# A closed loopback port as the only proxy: every http(s)/ws request the page makes
# fails at once, including ones to loopback (`<-loopback>` removes Chromium's implicit
# localhost bypass). Figures come from generated code, so this is the backstop for any
# URL the sanitizer does not know about. file:// (kaleido's page, plotly.js) is not
# proxied and keeps working.
_DEAD_PROXY = "127.0.0.1:9"

_EXTRA_FLAGS = (
    f"--proxy-server={_DEAD_PROXY}",
    "--proxy-bypass-list=<-loopback>",
    # No DNS at all, in case something bypasses the proxy.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    # Background services that would otherwise phone home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-crash-reporter",
    "--no-pings",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
)


def _is_executable(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def find_browser(explicit: str | None = None, *, search: bool = True) -> str | None:
    """Return the path of a Chromium-family browser, or None.

    An explicit path, then ``BROWSER_PATH``, win outright: if the operator named a
    browser and it is missing we report that rather than silently use another one.
    ``search=False`` stops the lookup on PATH and in the usual install locations.
    """
    if explicit is not None:
        return explicit if _is_executable(explicit) else None
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if _is_executable(env) else None
    if not search:
        return None
    for name in _BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for candidate in _TYPICAL_PATHS:
        if _is_executable(candidate):
            return candidate
    return None


def unavailable_reason(explicit: str | None = None) -> str:
    """One line telling the operator why charts are off and how to turn them on."""
    if explicit is not None:
        return f"charts disabled: no executable browser at {explicit!r}; {INSTALL_HINT}"
    env = os.environ.get("BROWSER_PATH")
    if env:
        return f"charts disabled: BROWSER_PATH={env!r} is not an executable; {INSTALL_HINT}"
    return f"charts disabled: no Chromium found; {INSTALL_HINT}"


class HardenedChromium(Chromium):
    """choreographer's Chromium launcher with network access cut off.

    choreographer already passes --headless, --no-sandbox (needed as root and in most
    containers), --no-first-run, --disable-sync and --disable-component-update; it
    does not pass --disable-background-networking or any proxy. It also passes
    --disable-web-security and --allow-file-access-from-files; removing them made
    kaleido's per-render page reload ~2x slower, and with the network cut off they
    only widen what a page could read, not where it could send it.
    """

    def get_cli(self) -> Sequence[str]:
        # Drop any proxy choreographer took from CHOREO_PROXY_SERVER: ours must win.
        cli = [arg for arg in super().get_cli() if not arg.startswith("--proxy-server=")]
        return [*cli, *(flag for flag in _EXTRA_FLAGS if flag not in cli)]


def process_tree(root: int) -> list[int]:
    """PIDs of ``root``'s descendants (not ``root`` itself), read from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue  # exited while we looked
        # The command name may contain spaces or ")", so parse from the last ")".
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_process_group(proc: subprocess.Popen[Any] | None) -> None:
    """SIGKILL the browser launched as ``proc``, with all its helper processes."""
    if proc is None or proc.poll() is not None:
        return  # already exited and reaped: its pid may belong to someone else now
    # choreographer starts the launcher in a new session, so its process group is
    # exactly the launcher, Chromium and Chromium's helpers: no other process.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


class WarmKaleido(kaleido.Kaleido):
    """Kaleido that reuses a tab's page for several figures and reloads it off the
    caller's time.

    kaleido reloads every tab after every render and awaits that reload before
    ``calc_fig`` returns. The reload re-parses plotly.js: ~150 ms of Chromium CPU,
    six times what drawing a small chart costs, and the ceiling on a worker's charts
    per second. Here a tab goes straight back to the queue after a render and is
    reloaded after every ``renders_per_page`` renders (1: kaleido's behaviour), in a
    task of its own, rejoining the queue when the reload is done.

    Sharing a page between figures (and so between workspaces) leaks nothing into
    the images: kaleido draws each figure with ``Plotly.toImage`` into a new element
    that plotly.js purges afterwards, and a PNG is read from that element's canvas,
    not from the page. A figure is JSON (no script runs from it) and is sanitized
    first. The periodic reload bounds what the page accumulates, such as memory.
    """

    def __init__(self, *, renders_per_page: int = 1, **kwargs: Any) -> None:
        if renders_per_page < 1:
            raise ValueError("renders_per_page must be >= 1")
        super().__init__(**kwargs)
        self.broken = False
        self._closing = False
        self._reloads: set[asyncio.Task[None]] = set()
        self._renders_per_page = renders_per_page
        self._renders_since_load: dict[str, int] = {}
        """Renders per tab (by target id) since its page was last loaded."""

    async def _return_kaleido_tab(self, tab: Any) -> None:
        target = tab.tab.target_id
        renders = self._renders_since_load.get(target, 0) + 1
        if renders < self._renders_per_page:
            self._renders_since_load[target] = renders
            await self.tabs_ready.put(tab)
            return
        self._renders_since_load[target] = 0
        task = asyncio.create_task(super()._return_kaleido_tab(tab))
        self._reloads.add(task)
        task.add_done_callback(self._reload_done)

    def _reload_done(self, task: asyncio.Task[None]) -> None:
        self._reloads.discard(task)
        error = None if task.cancelled() else task.exception()  # always retrieve it
        if error is not None and not self._closing:
            # The tab never rejoins the queue; replace the browser on next use
            # rather than let renders wait for a tab that will not come.
            self.broken = True
            log.warning("chart tab reload failed", error=repr(error))

    def kill(self) -> None:
        """SIGKILL the browser with its helpers; for a browser that failed a render."""
        self._closing = True  # its pending tab reloads fail next; that is expected
        kill_process_group(getattr(self, "subprocess", None))
        # choreographer's pipe reader waits for the launcher's "{bye}", which a killed
        # launcher never sends, and close() joins that reader on the event loop: the
        # loop froze for ~2 s per restart. Say goodbye on the launcher's behalf, as
        # choreographer itself does on Windows, while the pipe is still open.
        channel = getattr(self, "_channel", None)
        if channel is not None and channel.is_ready() and hasattr(channel, "_fake_bye"):
            channel._fake_bye()

    def healthy(self) -> bool:
        return not self.broken and self.subprocess.poll() is None

    async def close(self) -> None:
        self._closing = True  # reloads cut short by closing are not failures
        for task in list(self._reloads):
            task.cancel()
        await super().close()

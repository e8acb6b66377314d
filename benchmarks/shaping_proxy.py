"""A user-space TCP proxy that delays (and optionally rate-limits) traffic, preserving order.

The kernel here has no ``netem``, so the round-trip delay of the shaped link is added by this
proxy: every chunk read from one side is written to the other side ``one_way_delay`` seconds
later. With ``rate_bps`` set it also serialises chunks at that rate per direction (shared by all
connections, like one physical link); that is the fallback when network namespaces and ``tc``
are not available. The proxy runs its own event loop in a daemon thread so that synchronous
harness code can drive subprocesses while it forwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass

CHUNK = 64 * 1024


@dataclass
class _Link:
    """One direction of the emulated link: when it is next free, and bytes carried."""

    rate_bps: float | None
    free_at: float = 0.0
    nbytes: int = 0

    def release_time(self, size: int, delay: float) -> float:
        """When a chunk of ``size`` bytes read now leaves the far end of the link."""
        now = time.monotonic()
        self.nbytes += size
        if self.rate_bps:
            self.free_at = max(self.free_at, now) + size * 8 / self.rate_bps
            return self.free_at + delay
        return now + delay


class ShapingProxy:
    """Forward ``127.0.0.1:<port>`` to ``target`` with a one-way delay per direction.

    Use as a context manager; ``port`` is known after ``start()``. ``bytes_up`` counts client
    to server bytes, ``bytes_down`` server to client.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        one_way_delay: float = 0.030,
        rate_bps: float | None = None,
        listen_host: str = "127.0.0.1",
        connect_delay: float = 0.0,
    ) -> None:
        self.target = (target_host, target_port)
        self.delay = one_way_delay
        #: Held before a new connection's first bytes: the round trip of the TCP handshake,
        #: which a real link charges and this proxy (accepting at once) otherwise would not.
        self.connect_delay = connect_delay
        self.listen_host = listen_host
        self.port = 0
        #: TCP connections accepted so far (new TLS handshakes for the client).
        self.connections = 0
        self._up = _Link(rate_bps)
        self._down = _Link(rate_bps)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def bytes_up(self) -> int:
        return self._up.nbytes

    @property
    def bytes_down(self) -> int:
        return self._down.nbytes

    def start(self) -> ShapingProxy:
        """Start listening (port 0: the kernel picks a free port, see ``port``)."""
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        fut.result(timeout=10)
        return self

    def stop(self) -> None:
        """Close the listener and every forwarded connection, then stop the thread."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> ShapingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.listen_host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter):
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            s_reader, s_writer = await asyncio.open_connection(*self.target)
        except OSError:
            c_writer.close()
            return
        try:
            if self.connect_delay:
                await asyncio.sleep(self.connect_delay)
            await asyncio.gather(
                self._pipe(c_reader, s_writer, self._up),
                self._pipe(s_reader, c_writer, self._down),
            )
        except asyncio.CancelledError:
            pass  # the proxy is shutting down; closing both sides below is all there is to do
        finally:
            for w in (c_writer, s_writer):
                w.close()
            if task is not None:
                self._tasks.discard(task)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: _Link
    ) -> None:
        """Copy ``reader`` to ``writer``; each chunk is written at its release time, in order."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read() -> None:
            while True:
                try:
                    data = await reader.read(CHUNK)
                except (ConnectionError, OSError):
                    data = b""
                await queue.put((link.release_time(len(data), self.delay), data))
                if not data:
                    return

        reader_task = asyncio.create_task(read())
        try:
            while True:
                release, data = await queue.get()
                wait = release - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    with contextlib.suppress(OSError):
                        if writer.can_write_eof():
                            writer.write_eof()
                    return
                writer.write(data)
                try:
                    await writer.drain()
                except (ConnectionError, OSError):
                    return
        finally:
            reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader_task

"""One transaction at a time on the embedded mongoeco server, and nothing else meanwhile.

mongoeco's engines do not isolate a multi-document transaction from the other sessions:
- the SQLite engine binds its one connection to the transaction and fails every other
  session's command, read or write, any database ("SQLiteEngine has an active transaction
  bound to another session"), and a second transaction cannot even start;
- the memory engine fails the commit ("Write conflict during transaction commit") when any
  other command reached it meanwhile, sometimes after applying the writes.

MongoDB serialises conflicting work itself; this gate makes the local server do the same,
in front of the engine: a transaction waits for the commands in flight, then runs alone from
its first statement to its commit or abort, and other sessions' commands wait for it (FIFO,
so neither starves). Commands outside transactions still run side by side. A transaction
whose client went silent for `idle_timeout` seconds is aborted, so a crashed client cannot
block the server. Monitoring and handshake commands pass untouched.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mongoeco.wire._session_identity import wire_session_key
from mongoeco.wire.protocol import OP_MSG, decode_op_msg
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

# Never held back: the driver's monitors and handshakes, and commands that free resources.
UNGATED = frozenset(
    {
        "hello",
        "ismaster",
        "isMaster",
        "ping",
        "buildInfo",
        "buildinfo",
        "saslStart",
        "saslContinue",
        "getParameter",
        "killCursors",
        "endSessions",
    }
)
ENDS_TRANSACTION = frozenset({"commitTransaction", "abortTransaction"})
# Our services never pause inside a transaction; a client that did for this long has died
# (or given up waiting), and every transaction queued behind it would wait as long: short.
IDLE_TIMEOUT_SECONDS = 2.0

type TxnKey = tuple[str, Any]


def transaction_key(body: dict[str, Any]) -> TxnKey | None:
    """(session, txnNumber) of a command that belongs to a multi-document transaction."""
    lsid = body.get("lsid")
    if lsid is None or body.get("autocommit") is not False or "txnNumber" not in body:
        return None
    return wire_session_key(lsid), body["txnNumber"]


class TransactionGate:
    """Fair reader/writer gate: transactions are exclusive, other commands shared."""

    def __init__(self, *, idle_timeout: float = IDLE_TIMEOUT_SECONDS) -> None:
        self.idle_timeout = idle_timeout
        self.owner: TxnKey | None = None
        self._owner_seen = 0.0
        self._owner_busy = 0  # commands of the owner running now: busy is not idle
        self._inflight = 0
        self._queue: collections.deque[tuple[TxnKey | None, asyncio.Future[None]]] = (
            collections.deque()
        )
        self.on_abandoned: Callable[[TxnKey], None] | None = None
        self.waits = 0

    def _grant(self) -> None:
        while self._queue and self.owner is None:
            key, future = self._queue[0]
            if future.done():  # the waiter gave up (cancelled)
                self._queue.popleft()
                continue
            if key is None:
                self._queue.popleft()
                self._inflight += 1
                future.set_result(None)
                continue
            if self._inflight:
                return  # the transaction waits for the commands in flight
            self._queue.popleft()
            self.owner = key
            self._owner_seen = time.monotonic()
            future.set_result(None)
            return

    def _abandon_idle_owner(self) -> None:
        if self._owner_busy:
            return
        if self.owner is not None and time.monotonic() - self._owner_seen > self.idle_timeout:
            key, self.owner = self.owner, None
            if self.on_abandoned is not None:
                self.on_abandoned(key)
            self._grant()

    async def _wait(self, key: TxnKey | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((key, future))
        self._grant()
        if future.done():
            return
        self.waits += 1
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(future), self.idle_timeout)
                return
            except TimeoutError:
                self._abandon_idle_owner()
                if future.done():
                    return
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._release(key)  # granted as we were cancelled: give it back
                else:
                    future.cancel()
                raise

    def _release(self, key: TxnKey | None) -> None:
        if key is None:
            self._inflight -= 1
        elif self.owner == key:
            self.owner = None
        self._grant()

    def _ended(self, sessions: Any) -> None:
        """Sessions ended while one of them held the gate: its transaction is over."""
        if self.owner is None or not isinstance(sessions, list):
            return
        if any(wire_session_key(lsid) == self.owner[0] for lsid in sessions):
            self._release(self.owner)

    async def run[R](self, body: dict[str, Any], call: Callable[[], Awaitable[R]]) -> R:
        command = next(iter(body), "")
        if command in UNGATED:
            try:
                return await call()
            finally:
                if command == "endSessions":
                    self._ended(body.get("endSessions"))
        key = transaction_key(body)
        if key is not None and self.owner == key:
            self._owner_seen = time.monotonic()
            self._owner_busy += 1
            try:
                return await call()
            finally:
                self._owner_busy -= 1
                self._owner_seen = time.monotonic()
                if command in ENDS_TRANSACTION:
                    self._release(key)
        if key is not None and command in ENDS_TRANSACTION:
            return await call()  # a transaction that never ran a statement here (or abandoned)
        await self._wait(key)
        if key is not None:
            self._owner_busy += 1
        try:
            return await call()
        finally:
            if key is not None:
                self._owner_busy -= 1
            if key is None or command in ENDS_TRANSACTION:
                self._release(key)
            else:
                self._owner_seen = time.monotonic()


class GatedProxyServer(AsyncMongoEcoProxyServer):
    """mongoeco's wire server with a `TransactionGate` in front of every command."""

    def __init__(self, *args: Any, idle_timeout: float = IDLE_TIMEOUT_SECONDS, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.gate = TransactionGate(idle_timeout=idle_timeout)
        self.gate.on_abandoned = self._abort_abandoned

    def _abort_abandoned(self, key: TxnKey) -> None:
        context = self._session_store._sessions.get(key[0])
        if context is not None and context.session.transaction_active:
            # A session already gone or broken has nothing left to free.
            with contextlib.suppress(Exception):
                context.session.abort_transaction()
        idle = self.gate.idle_timeout
        print(f"mongoeco gate: aborted a transaction idle for {idle}s", flush=True)

    async def _dispatch_wire_request(self, header, payload: bytes, *, connection):
        body: dict[str, Any] = {}
        if header.op_code == OP_MSG:
            try:
                body = decode_op_msg(header, payload).body
            except Exception:  # let the server answer the malformed message itself
                body = {}
        parent = super()._dispatch_wire_request
        return await self.gate.run(body, lambda: parent(header, payload, connection=connection))

"""One transaction at a time on the embedded mongoeco server, and MongoDB's answers around it.

mongoeco's engines do not isolate a multi-document transaction from the other sessions:
- the SQLite engine binds its one connection to the transaction and fails every other
  session's command, read or write, any database ("SQLiteEngine has an active transaction
  bound to another session"), and a second transaction cannot even start;
- the memory engine fails the commit ("Write conflict during transaction commit") when any
  other command reached it meanwhile.

MongoDB serialises conflicting work itself; this gate makes the local server do the same,
in front of the engine: a transaction waits for the commands in flight, then runs alone from
its first statement to its commit or abort, and other sessions' commands wait for it (FIFO,
so neither starves). Commands outside transactions still run side by side. A transaction
whose client went silent for `idle_timeout` seconds is aborted, so a crashed client cannot
block the server; one whose client's connection closed (a killed process) is aborted at once,
and the commands a closed connection left queued are dropped unrun, so a killed service does
not hold every transaction it had queued for an idle timeout each. Monitoring and handshake
commands pass untouched.

mongoeco's wire layer also answers transactions unlike a replica set, and production code
once carried a workaround for each difference (a retry of unlabelled "Write conflict"
messages, a second retry loop, discarding the driver's server session after a failed commit).
`ReplicaSetSessions` and `GatedProxyServer` answer as a replica set does instead, so the
services need only what MongoDB itself asks of a client (PyMongo's `with_transaction`):
- a write conflict is `WriteConflict` (code 112); inside a transaction it carries the
  `TransientTransactionError` label and aborts the transaction, so the driver runs it again;
  outside one, a single-document write is retried in the server, as MongoDB does, and never
  reaches the client;
- a transaction the server aborted (a conflict, a failed commit, the gate's idle timeout) is
  over: its later statements and its commit get `NoSuchTransaction` (251) with the
  `TransientTransactionError` label, never an "ok" for writes that were rolled back, and
  never a statement applied outside the transaction it belonged to;
- a commit sent again after it succeeded answers ok (the driver retries a commit whose answer
  it lost), and nothing is applied twice;
- a session whose last transaction was left open (its commit failed, its client gave up)
  starts the next transaction afresh: a new `txnNumber` aborts the old one, as MongoDB does,
  instead of carrying on with the old transaction's writes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from mongoeco.errors import OperationFailure
from mongoeco.wire._session_identity import wire_session_key
from mongoeco.wire.protocol import OP_MSG, decode_op_msg
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer
from mongoeco.wire.sessions import WireSessionStore
from pymongo.errors import PyMongoError

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
# How often a waiting command looks whether the transaction ahead of it lost its client.
GONE_POLL_SECONDS = 0.25
# MongoDB's codes and label for what a client may run again.
WRITE_CONFLICT = 112
NO_SUCH_TRANSACTION = 251
TRANSIENT = "TransientTransactionError"
# How mongoeco words a conflict (the memory engine's "Write conflict ...", the SQLite engine
# busy with another session's transaction, which the gate otherwise prevents).
_CONFLICT_MARKS = ("write conflict", "active transaction bound to another session")
# A write outside a transaction that lost a conflict is run again, like MongoDB's own retry of
# a single-document write; a few times, with a pause that lets the other writer finish.
PLAIN_CONFLICT_TRIES = 5
PLAIN_CONFLICT_PAUSE_SECONDS = 0.002
# The connection a command arrived on, set by its connection's handler task.
_PEER: contextvars.ContextVar[Any] = contextvars.ContextVar("peer", default=None)

type TxnKey = tuple[str, Any]


class Peer(Protocol):
    """The client end of a command's connection, as far as the gate cares (asyncio's
    `StreamReader`): true once the client closed it or died."""

    def at_eof(self) -> bool: ...


class ClientGone(ConnectionResetError):
    """A queued command whose client closed its connection: never run, nobody to answer."""


def is_engine_conflict(exc: BaseException) -> bool:
    """A conflict as mongoeco reports it (no code, no label)."""
    if not isinstance(exc, PyMongoError):
        return False
    text = str(exc).lower()
    return any(mark in text for mark in _CONFLICT_MARKS)


def write_conflict(*, transient: bool) -> OperationFailure:
    """MongoDB's WriteConflict; labelled transient inside a transaction, as MongoDB labels it."""
    return OperationFailure(
        "WriteConflict error: this operation conflicted with another operation. "
        "Please retry your operation or multi-document transaction.",
        code=WRITE_CONFLICT,
        details={"codeName": "WriteConflict"},
        error_labels=(TRANSIENT,) if transient else (),
    )


def no_such_transaction(txn_number: Any) -> OperationFailure:
    """MongoDB's answer for a transaction that is over (aborted, or never started here)."""
    return OperationFailure(
        f"Transaction with txnNumber {txn_number} has been aborted.",
        code=NO_SUCH_TRANSACTION,
        details={"codeName": "NoSuchTransaction"},
        error_labels=(TRANSIENT,),
    )


def single_document_write(command: dict[str, Any]) -> bool:
    """A write command of exactly one document: all or nothing, so a conflict applied nothing
    and running it again is what MongoDB itself does."""
    name = next(iter(command), "")
    if name in ("findAndModify", "findandmodify"):
        return True
    if name == "insert":
        return len(command.get("documents") or ()) == 1
    if name == "update":
        updates = command.get("updates") or ()
        return len(updates) == 1 and not updates[0].get("multi")
    if name == "delete":
        deletes = command.get("deletes") or ()
        return len(deletes) == 1 and deletes[0].get("limit") == 1
    return False


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
        self._owner_peer: Peer | None = None  # the connection of the owner's latest command
        self._inflight = 0
        self._queue: collections.deque[tuple[TxnKey | None, asyncio.Future[None], Peer | None]] = (
            collections.deque()
        )
        self.dropped = 0
        self.on_abandoned: Callable[[TxnKey], None] | None = None
        self.waits = 0

    def _grant(self) -> None:
        while self._queue and self.owner is None:
            key, future, peer = self._queue[0]
            if future.done():  # the waiter gave up (cancelled)
                self._queue.popleft()
                continue
            if peer is not None and peer.at_eof():
                # Its client died while it waited: nothing to run, nobody to answer.
                self._queue.popleft()
                self.dropped += 1
                future.set_exception(ClientGone("the client closed its connection"))
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
            self._owner_peer = peer
            self._owner_seen = time.monotonic()
            future.set_result(None)
            return

    def _abandon_idle_owner(self) -> None:
        """Abort the transaction holding the gate if its client went silent for the idle
        timeout, or closed the connection it last spoke on (a driver keeps a transaction's
        connection while it lives, so the client died)."""
        if self._owner_busy or self.owner is None:
            return
        gone = self._owner_peer is not None and self._owner_peer.at_eof()
        if gone or time.monotonic() - self._owner_seen > self.idle_timeout:
            self._abandon_owner()

    def _abandon_owner(self) -> None:
        key, self.owner, self._owner_peer = self.owner, None, None
        if key is not None and self.on_abandoned is not None:
            self.on_abandoned(key)
        self._grant()

    def connection_closed(self, peer: Peer) -> None:
        """A client connection closed: the transaction holding the gate may have been its
        client's (aborted now rather than after the idle timeout), and the commands a dead
        client left queued are dropped as the gate reaches them."""
        self._abandon_idle_owner()
        self._grant()

    async def _wait(self, key: TxnKey | None, peer: Peer | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((key, future, peer))
        self._grant()
        if future.done():
            return future.result()  # granted, or dropped (ClientGone)
        self.waits += 1
        while True:
            try:
                # In slices: a dead owner whose connection is the one this command came on
                # (pooled connections are reused) frees no other connection's handler.
                await asyncio.wait_for(asyncio.shield(future), GONE_POLL_SECONDS)
                return
            except TimeoutError:
                self._abandon_idle_owner()
                if future.done():
                    return future.result()
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
            self.owner, self._owner_peer = None, None
        self._grant()

    def _ended(self, sessions: Any) -> None:
        """Sessions ended while one of them held the gate: its transaction is over."""
        if self.owner is None or not isinstance(sessions, list):
            return
        if any(wire_session_key(lsid) == self.owner[0] for lsid in sessions):
            self._release(self.owner)

    async def run[R](
        self, body: dict[str, Any], call: Callable[[], Awaitable[R]], peer: Peer | None = None
    ) -> R:
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
            self._owner_peer = peer
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
        await self._wait(key, peer)
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


class ReplicaSetSessions(WireSessionStore):
    """mongoeco's wire sessions with MongoDB's transaction bookkeeping: per session, the
    transaction it holds, the last one committed (a repeated commit answers ok) and the last
    one the server aborted (its statements and commit answer `NoSuchTransaction`)."""

    def __init__(self) -> None:
        super().__init__()
        self._open: dict[str, Any] = {}
        self._committed: dict[str, Any] = {}
        self._aborted: dict[str, Any] = {}
        self.aborted_by_server = 0

    def resolve_for_command(self, client, body, *, capability):  # type: ignore[override]
        key = transaction_key(body)
        if key is not None and next(iter(body), "") not in ENDS_TRANSACTION:
            session_key, txn = key
            if body.get("startTransaction") is True:
                # A new transaction ends whatever the session left open (MongoDB aborts a
                # transaction when a higher txnNumber arrives).
                self._end_open(session_key, abort=True)
                self._aborted.pop(session_key, None)
                self._open[session_key] = txn
            elif self._open.get(session_key) != txn:
                raise no_such_transaction(txn)
        return super().resolve_for_command(client, body, capability=capability)

    def commit_transaction(self, body: dict[str, Any]) -> dict[str, Any]:
        key = transaction_key(body)
        if key is None:
            return super().commit_transaction(body)
        session_key, txn = key
        if self._committed.get(session_key) == txn:
            return {"ok": 1.0}  # a commit sent again after it succeeded
        if self._open.get(session_key) != txn:
            raise no_such_transaction(txn)
        session = self._require_session(body)
        try:
            if session.transaction_active:
                session.commit_transaction()
        except Exception as exc:
            self.abort(session_key, txn)
            if is_engine_conflict(exc):
                raise write_conflict(transient=True) from exc
            raise
        del self._open[session_key]
        self._committed[session_key] = txn
        return {"ok": 1.0}

    def abort_transaction(self, body: dict[str, Any]) -> dict[str, Any]:
        key = transaction_key(body)
        if key is None:
            return super().abort_transaction(body)
        session_key, txn = key
        if self._open.get(session_key) == txn:
            self._end_open(session_key, abort=True)
        return {"ok": 1.0}

    def abort(self, session_key: str, txn: Any) -> bool:
        """Abort a transaction on the server's own account (a conflict, a failed commit, an
        idle client): it is over, and its client hears so. False if it was not open."""
        if self._open.get(session_key) != txn:
            return False
        self._end_open(session_key, abort=True)
        self._aborted[session_key] = txn
        self.aborted_by_server += 1
        return True

    def end_sessions(self, session_specs: object) -> dict[str, Any]:
        if isinstance(session_specs, list):
            for spec in session_specs:
                session_key = wire_session_key(spec)
                self._end_open(session_key, abort=True)
                self._committed.pop(session_key, None)
                self._aborted.pop(session_key, None)
        return super().end_sessions(session_specs)

    def _end_open(self, session_key: str, *, abort: bool) -> None:
        self._open.pop(session_key, None)
        context = self._sessions.get(session_key)
        if abort and context is not None and context.session.transaction_active:
            try:
                context.session.abort_transaction()
            except Exception:
                # An engine that cannot roll the session back: a fresh one replaces it.
                with contextlib.suppress(Exception):
                    context.session.close()
                self._sessions.pop(session_key, None)


class GatedProxyServer(AsyncMongoEcoProxyServer):
    """mongoeco's wire server with a `TransactionGate` in front of every command and a
    replica set's answers to conflicts and transaction outcomes (`ReplicaSetSessions`)."""

    def __init__(self, *args: Any, idle_timeout: float = IDLE_TIMEOUT_SECONDS, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.gate = TransactionGate(idle_timeout=idle_timeout)
        self.gate.on_abandoned = self._abort_abandoned
        # The executor and its command handlers hold the store they were built with.
        self.sessions = ReplicaSetSessions()
        self._session_store = self.sessions
        self._executor._session_store = self.sessions
        self._executor._handlers._session_store = self.sessions
        self._execute = self._executor.execute_prepared
        self._executor.execute_prepared = self._execute_as_replica_set  # type: ignore[method-assign]
        self.plain_conflicts_retried = 0

    def _abort_abandoned(self, key: TxnKey) -> None:
        if self.sessions.abort(*key):
            idle = self.gate.idle_timeout
            print(
                f"mongoeco gate: aborted a transaction whose client left"
                f" (idle for {idle}s or disconnected)",
                flush=True,
            )

    async def _execute_as_replica_set(self, context: Any) -> dict[str, Any]:
        key = transaction_key(context.raw_body)
        retry = key is None and single_document_write(context.command_document)
        for attempt in range(PLAIN_CONFLICT_TRIES):
            try:
                result = await self._execute(context)
            except Exception as exc:
                if not is_engine_conflict(exc):
                    raise
                conflict: BaseException = exc
            else:
                errors = result.get("writeErrors") if isinstance(result, dict) else None
                if not errors or not any(
                    any(mark in str(e.get("errmsg", "")).lower() for mark in _CONFLICT_MARKS)
                    for e in errors
                    if isinstance(e, dict)
                ):
                    return result
                conflict = OperationFailure(str(errors[0].get("errmsg")))
            if key is not None:
                self.sessions.abort(*key)
                raise write_conflict(transient=True) from conflict
            if not retry or attempt + 1 == PLAIN_CONFLICT_TRIES:
                raise write_conflict(transient=False) from conflict
            self.plain_conflicts_retried += 1
            await asyncio.sleep(PLAIN_CONFLICT_PAUSE_SECONDS * (attempt + 1))
        raise AssertionError("unreachable")

    async def _handle_connection(self, reader, writer) -> None:
        # Each connection's handler is its own task: the context variable is this
        # connection's alone. Its closing may free the gate (a killed client).
        _PEER.set(reader)
        try:
            await super()._handle_connection(reader, writer)
        finally:
            self.gate.connection_closed(reader)

    async def _dispatch_wire_request(self, header, payload: bytes, *, connection):
        body: dict[str, Any] = {}
        if header.op_code == OP_MSG:
            try:
                body = decode_op_msg(header, payload).body
            except Exception:  # let the server answer the malformed message itself
                body = {}
        parent = super()._dispatch_wire_request
        return await self.gate.run(
            body, lambda: parent(header, payload, connection=connection), _PEER.get()
        )

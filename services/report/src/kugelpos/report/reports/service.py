"""Report requests: validation (§3.3), daily verification (§3.5), generation from the
aggregates the type needs through the plugin of the type, texts (§3.13) and archiving to the
journal (§3.12).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from kugelpos.common.auth.tokens import TokenCodec
from kugelpos.common.clients.http import HttpClientHelper
from kugelpos.common.errors import AppError
from kugelpos.common.transactions import TillSession

from ..aggregates import (
    DailyInfoRepository,
    SessionRepository,
    report_figures,
)
from ..errors import (
    ExternalServiceFault,
    ReportDateError,
    ReportGenerationError,
    ReportNotFoundError,
    ReportScopeError,
    TerminalNotClosedError,
)
from ..figures import Selection
from ..plugins.base import ReportMaker, ReportRequest
from ..texts import render

log = structlog.get_logger(__name__)

SCOPES = {"flash": "flash", "flush": "flash", "daily": "daily"}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asked, for verification's terminal list and for archiving."""

    headers: dict[str, str]  # the caller's credential headers (bearer or X-API-KEY)
    terminal_id: str | None
    staff_id: str | None


def _check_date(name: str, value: str) -> str:
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except (ValueError, IndexError):
        raise ReportDateError(f"{name} must be a date YYYYMMDD, got {value!r}") from None
    if len(value) != 8 or not value.isdigit():
        raise ReportDateError(f"{name} must be a date YYYYMMDD, got {value!r}")
    return value


def validate(
    *,
    report_scope: str,
    business_date: str | None,
    business_date_from: str | None,
    business_date_to: str | None,
) -> tuple[str, str | None, str | None, str | None]:
    """(scope, date, from, to) or a 400. Ranges are allowed for both scopes and every type."""
    scope = SCOPES.get(report_scope.strip().lower())
    if scope is None:
        raise ReportScopeError(f"report_scope must be flash or daily, got {report_scope!r}")
    if (business_date_from is None) != (business_date_to is None):
        raise ReportDateError("Both business_date_from and business_date_to must be specified")
    if business_date_from is not None and business_date_to is not None:
        if business_date is not None:
            raise ReportDateError("Give either business_date or a range, not both")
        _check_date("business_date_from", business_date_from)
        _check_date("business_date_to", business_date_to)
        if business_date_from > business_date_to:
            raise ReportDateError("business_date_from must not be after business_date_to")
        return scope, None, business_date_from, business_date_to
    if business_date is None:
        raise ReportDateError(
            "Either business_date or both business_date_from and business_date_to must be specified"
        )
    return scope, _check_date("business_date", business_date), None, None


def requesting_terminal_no(terminal_id: str | None) -> int | None:
    """Issue #28: the last `-`-separated part of `terminal_id`."""
    if not terminal_id:
        return None
    try:
        return int(terminal_id.rsplit("-", 1)[-1])
    except ValueError:
        return None


class ReportService:
    def __init__(
        self,
        *,
        mongo: Any,
        ensure_tenant: Any,
        makers: dict[str, ReportMaker],
        http: HttpClientHelper,
        codec: TokenCodec,
        terminal_url: str,
        journal_url: str,
        timezone: str,
    ) -> None:
        self._mongo = mongo
        self._ensure_tenant = ensure_tenant
        self.makers = makers
        self._http = http
        self._codec = codec
        self._terminal_url = terminal_url.rstrip("/")
        self._journal_url = journal_url.rstrip("/")
        self._tz = ZoneInfo(timezone)
        # Tenants seen without aggregates of the old layout: nothing writes that layout any
        # more, so they never get some and their reports skip that query.

    async def report(self, request: ReportRequest, caller: Caller) -> dict[str, Any]:
        db = await self._ensure_tenant(request.tenant_id)
        if request.report_scope == "daily":
            await self.verify(db, request, caller)
        maker = self.makers.get(request.report_type)
        if maker is None:
            known = ", ".join(sorted(self.makers))
            raise ReportNotFoundError(
                f"Report type {request.report_type!r} not found (known: {known})"
            )
        request = replace(
            request,
            generate_date_time=datetime.now(self._tz).isoformat(),
            staff_id=caller.staff_id,
        )
        selection = Selection(
            request.store_code,
            request.date_from,
            request.date_to,
            request.terminal_no,
            request.open_counter,
        )
        try:
            figures = await report_figures(
                db,
                request.tenant_id,
                selection,
                families=maker.families,
                per_hour=maker.per_hour,
            )
            data = await maker.generate_report(request, figures)
            receipt, journal = render(maker, request, data)
        except AppError:
            raise
        except Exception as exc:  # a plugin's fault, not the client's
            log.error("report_generation_failed", report_type=request.report_type, exc_info=exc)
            raise ReportGenerationError(
                f"Report {request.report_type} could not be generated: {type(exc).__name__}"
            ) from exc
        data[maker.receipt_key] = receipt
        data[maker.journal_key] = journal
        if request.report_scope != "daily":
            # A flash report counts what has arrived; it says which closed sessions still miss
            # logs their close announced (a till that closed offline uploads its sales later).
            data["incompleteSessions"] = await self.incomplete(db, request)
        if caller.terminal_id:
            await self.archive(request, caller, data, maker)
        return data

    # ---- daily verification (§3.5) -------------------------------------------------------

    def _sessions_query(self, request: ReportRequest) -> dict[str, Any]:
        query: dict[str, Any] = {
            "tenant_id": request.tenant_id,
            "store_code": request.store_code,
            "business_date": {"$gte": request.date_from, "$lte": request.date_to},
        }
        if request.terminal_no is not None:
            query["terminal_no"] = request.terminal_no
        if request.open_counter is not None:
            query["open_counter"] = request.open_counter
        return query

    async def incomplete(self, db: Any, request: ReportRequest) -> list[dict[str, Any]]:
        """Closed sessions of the selection whose close announced logs (sales, cash moves)
        that have not all arrived. A session still open is not incomplete (it is selling), and
        one whose open log is missing is the daily verification's business, not a count."""
        query = self._sessions_query(request) | {"closed": True, "opened": True}
        sessions = await db[SessionRepository.collection_name].find(query, {"_id": False}).to_list()
        marks = []
        for s in sorted(sessions, key=lambda s: (s["terminal_no"], s["business_date"])):
            problem = session_problem(s)
            if problem:
                marks.append(
                    {
                        "terminalNo": s["terminal_no"],
                        "businessDate": s["business_date"],
                        "openCounter": s["open_counter"],
                        "reason": problem,
                    }
                )
        return marks

    async def verify(self, db: Any, request: ReportRequest, caller: Caller) -> None:
        """Every session (terminal × date × open counter) of the selection that opened must
        have closed and all the logs its close announced must have arrived. Sessions without
        any log (never opened) do not block; a trace is recorded in `info_daily`."""
        query = self._sessions_query(request)
        sessions = await db[SessionRepository.collection_name].find(query, {"_id": False}).to_list()
        info = DailyInfoRepository(db)
        failures: list[str] = []
        seen_terminals: set[tuple[int, str]] = set()
        for s in sorted(sessions, key=lambda s: (s["terminal_no"], s["business_date"])):
            seen_terminals.add((s["terminal_no"], s["business_date"]))
            problem = session_problem(s)
            await info.record(
                TillSession(
                    request.tenant_id,
                    request.store_code,
                    s["terminal_no"],
                    s["business_date"],
                    s["open_counter"],
                ),
                verified=problem is None,
                message=problem or "all logs received",
            )
            if problem:
                failures.append(
                    f"terminal {s['terminal_no']} {s['business_date']} "
                    f"session {s['open_counter']}: {problem}"
                )
        for terminal_no in await self._terminals(request, caller):
            for day in _dates(request.date_from, request.date_to, sessions):
                if (terminal_no, day) in seen_terminals:
                    continue
                await info.record(
                    TillSession(
                        request.tenant_id,
                        request.store_code,
                        terminal_no,
                        day,
                        request.open_counter or 0,
                    ),
                    verified=True,
                    message="not opened on this date (no logs)",
                )
        if failures:
            raise TerminalNotClosedError(
                "Daily report not allowed yet: " + "; ".join(failures[:20]),
                details={"sessions": failures},
            )

    async def _terminals(self, request: ReportRequest, caller: Caller) -> list[int]:
        """The store's terminals (terminal service, caller's credentials) for the traces of
        terminals that never opened; the terminal report needs only its own."""
        if request.terminal_no is not None:
            return [request.terminal_no]
        url = f"{self._terminal_url}/terminals"
        params = {"store_code": request.store_code, "limit": 1000, "page": 1}
        if caller.terminal_id:
            params["terminal_id"] = caller.terminal_id
        try:
            r = await self._http.get(url, params=params, headers=caller.headers)
        except AppError as exc:
            raise ExternalServiceFault(f"terminal list unavailable: {exc.message}") from exc
        if not r.is_success:
            raise ExternalServiceFault(f"terminal list unavailable: HTTP {r.status_code}")
        rows = r.json().get("data") or []
        return sorted({int(t.get("terminalNo", t.get("terminal_no"))) for t in rows})

    # ---- archiving (§3.12) -------------------------------------------------------------------

    async def archive(
        self, request: ReportRequest, caller: Caller, data: dict[str, Any], maker: ReportMaker
    ) -> None:
        terminal_no = requesting_terminal_no(caller.terminal_id)
        if terminal_no is None:
            terminal_no = request.terminal_no if request.terminal_no is not None else 0
        receipt = data.get(maker.receipt_key) or (
            f"Report: {request.report_type} ({request.report_scope})\n"
            f"Store: {request.store_code}\nDate: {request.business_date or request.date_from}"
        )
        body = {
            "tenantId": request.tenant_id,
            "storeCode": request.store_code,
            "terminalNo": terminal_no,
            "transactionType": 502 if request.report_scope == "daily" else 501,
            "businessDate": request.business_date or request.business_date_from,
            "openCounter": request.open_counter or 0,
            "businessCounter": request.business_counter or 0,
            "generateDateTime": request.generate_date_time,
            "receiptNo": 0,
            "amount": 0.0,
            "quantity": 0,
            "staffId": caller.staff_id or "SYSTEM",
            "userId": None,
            "journalText": data.get(maker.journal_key) or json.dumps(data, indent=2),
            "receiptText": receipt,
        }
        token = self._codec.issue_service_token(service="report", tenant_id=request.tenant_id)
        url = (
            f"{self._journal_url}/tenants/{request.tenant_id}/stores/{request.store_code}"
            f"/terminals/{terminal_no}/journals"
        )
        try:
            r = await self._http.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
            if not r.is_success:
                log.warning("report_archive_refused", status=r.status_code, body=r.text[:300])
        except Exception as exc:  # never fails the report
            log.warning("report_archive_failed", error=type(exc).__name__)


def session_problem(s: dict[str, Any]) -> str | None:
    """Why one session blocks the daily report (None: it does not)."""
    close = s.get("close") or {}
    if not s.get("opened"):
        return "open log missing (412106)"
    if not s.get("closed"):
        return "terminal not closed: close log missing (412106)"
    expected_cash = close.get("cash_in_out_count")
    got_cash = int(s.get("cash_count") or 0)
    if expected_cash is not None and got_cash != int(expected_cash):
        return f"cash in/out logs {got_cash} of {expected_cash} received (412105)"
    last_cash = close.get("cash_in_out_last_datetime")
    if got_cash and last_cash and s.get("cash_last_datetime") != last_cash:
        return "latest cash in/out log not received (412105)"
    expected_tran = close.get("cart_transaction_count")
    got_tran = int(s.get("tran_count") or 0)
    if expected_tran is not None and got_tran != int(expected_tran):
        return f"transaction logs {got_tran} of {expected_tran} received (412104)"
    last_no = close.get("cart_transaction_last_no")
    if got_tran and last_no is not None and int(s.get("tran_last_no") or 0) != int(last_no):
        return "latest transaction log not received (412104)"
    return None


def _dates(date_from: str, date_to: str, sessions: list[dict[str, Any]]) -> list[str]:
    if date_from == date_to:
        return [date_from]
    start = datetime.strptime(date_from, "%Y%m%d").date()
    end = datetime.strptime(date_to, "%Y%m%d").date()
    if (end - start).days > 62:  # traces for long ranges only where something happened
        return sorted({s["business_date"] for s in sessions})
    return [
        date.fromordinal(d).strftime("%Y%m%d")
        for d in range(start.toordinal(), end.toordinal() + 1)
    ]


def to_csv(maker: ReportMaker, data: dict[str, Any]) -> str:
    header, rows = maker.csv_rows(data)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()

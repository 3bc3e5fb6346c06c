"""The ledger (案件台账) with its Excel export, the supervisor dashboard (监督看板) and the notifications (消息)."""

from __future__ import annotations

import tempfile
from typing import Any

from flask import Response, flash, redirect, render_template, request, send_file, url_for

from engine.common import clock
from engine.common.contract import CASE_STATUSES, STAGES
from engine.common.errors import NotFound
from engine.services import case_ledger, dashboard, notifications
from engine.services.case_ledger import STAGE_LABELS, LedgerFilter
from web.api.common import arg_bool, arg_choice, arg_int, arg_str

from . import actor, pages, runtime, safe_next

PER_PAGE = 20
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ledger_filter() -> LedgerFilter:
    return LedgerFilter(
        stage=arg_str("stage", 40), status=arg_str("status", 30), department=arg_str("department", 40),
        source=arg_str("source", 40), year=arg_int("year", None, 2000, 2100), month=arg_str("month", 7),
        overdue=arg_bool("overdue"), has_incident=arg_bool("has_incident"),
        due_within=arg_int("due_within", None, 0, 366), failure_reason=arg_str("failure_reason", 40),
        q=arg_str("q", 100))


@pages.get("/ledger")
def ledger() -> str:
    f = ledger_filter()
    sort = arg_choice("sort", case_ledger.SORTS, "new")
    page = arg_int("page", 1, 1, 100_000) or 1
    result = case_ledger.search(runtime(), actor(), f, sort=sort, page=page, per_page=PER_PAGE)
    params = f.as_params()
    year = clock.today().year
    return render_template("ledger.html", result=result, filter=f, params=params, sort=sort,
                           pages=max(1, -(-result["total"] // PER_PAGE)), stages=STAGES, statuses=CASE_STATUSES,
                           sources=case_ledger.lead_sources(runtime()), years=list(range(year, year - 6, -1)),
                           failure_reasons=dashboard.FAILURE_REASONS)


@pages.get("/ledger/export.xlsx")
def ledger_export() -> Response:
    f = ledger_filter()
    sort = arg_choice("sort", case_ledger.SORTS, "new")
    # rows go to a temporary file as they come from the database, and the file is streamed from disk
    out = tempfile.TemporaryFile()  # noqa: SIM115  (closed by send_file's response when sent)
    try:
        case_ledger.export_xlsx(runtime(), actor(), f, out, sort=sort)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    name = f"案件台账-{clock.today().strftime('%Y%m%d')}.xlsx"
    return send_file(out, mimetype=XLSX_MIME, as_attachment=True, download_name=name)


def _ledger_url(filters: dict[str, Any]) -> str:
    params: dict[str, Any] = {k: ("1" if v else "0") if isinstance(v, bool) else v for k, v in filters.items()}
    return url_for("pages.ledger", **params)


@pages.get("/dashboard")
def dashboard_page() -> str:
    data = dashboard.overview(runtime(), actor())
    chart = {"stages": [{"name": STAGE_LABELS.get(s["stage"], s["stage"]), "count": s["count"],
                         "url": _ledger_url(s["filter"])} for s in data["by_stage"] if s["count"]],
             "departments": [{"name": d["name"], "count": d["count"], "url": _ledger_url(d["filter"])}
                             for d in data["by_department"]],
             "months": [{"name": m["month"], "count": m["count"], "url": _ledger_url(m["filter"])}
                        for m in data["new_leads"]],
             "failures": [{"name": f["label"], "count": f["count"], "url": _ledger_url(f["filter"])}
                          for f in data["consultation_failures"]]}
    return render_template("dashboard.html", data=data, ledger_url=_ledger_url, chart=chart)


@pages.get("/notifications")
def notifications_page() -> str:
    unread = arg_bool("unread") or False
    result = notifications.for_actor(runtime(), actor(), unread=unread)
    return render_template("notifications.html", items=result["items"], unread=unread)


@pages.post("/notifications/<id:notification_id>/read")
def mark_read(notification_id: int) -> Response:
    try:
        notifications.mark_read(runtime(), actor(), notification_id)
    except NotFound as exc:
        flash(exc.message, "error")
    target = safe_next(request.form.get("next")) or url_for("pages.notifications_page")
    return redirect(target, code=303)  # type: ignore[return-value]

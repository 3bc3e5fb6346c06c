"""The clock, notifications, the holiday calendar, incidents, users and the export of the whole audit chain."""

from __future__ import annotations

from flask import Response

from engine.services import admin_users, audit_export, clock_admin, holiday_admin, incidents, notifications

from . import api
from .common import (
    INT32,
    actor,
    arg_bool,
    arg_choice,
    arg_int,
    arg_str,
    attachment,
    check_args,
    json_body,
    reply,
    runtime,
)


@api.get("/admin/clock")
def get_clock() -> tuple[Response, int]:
    return reply(clock_admin.clock_status(runtime()))


@api.post("/admin/clock")
def move_clock() -> tuple[Response, int]:
    return reply(clock_admin.move_clock(runtime(), actor(), json_body()))


@api.get("/notifications")
def list_notifications() -> tuple[Response, int]:
    check_args(("unread",))
    return reply(notifications.for_actor(runtime(), actor(), unread=bool(arg_bool("unread"))))


@api.post("/notifications/<id:notification_id>/read")
def read_notification(notification_id: int) -> tuple[Response, int]:
    return reply(notifications.mark_read(runtime(), actor(), notification_id))


@api.get("/holidays")
def get_holidays() -> tuple[Response, int]:
    check_args(("year",))
    year = arg_int("year", None, holiday_admin.YEARS.start, holiday_admin.YEARS.stop - 1)
    return reply(holiday_admin.get_year(runtime(), year))


@api.put("/holidays/<id:year>")
def put_holidays(year: int) -> tuple[Response, int]:
    return reply(holiday_admin.put_year(runtime(), actor(), year, json_body()))


@api.get("/incidents")
def list_incidents() -> tuple[Response, int]:
    check_args(("case",))
    return reply({"items": incidents.open_incidents(runtime(), actor(), arg_int("case", None, 1, INT32))})


@api.post("/incidents/<id:incident_id>/retry")
def retry_incident(incident_id: int) -> tuple[Response, int]:
    return reply(incidents.retry(runtime(), actor(), incident_id))


@api.get("/admin/users")
def list_users() -> tuple[Response, int]:
    return reply(admin_users.list_users(runtime(), actor()))


@api.post("/admin/users")
def save_user() -> tuple[Response, int]:
    """Create a user or change one (the body names it): name, roles, department, password, active."""
    user, created = admin_users.save_user(runtime(), actor(), json_body())
    return reply(user, 201 if created else 200)


@api.get("/audit")
def export_audit() -> tuple[Response, int] | Response:
    """The whole audit chain (administrators, supervisors): JSON a page at a time, or all of it as CSV."""
    check_args(("format", "from", "to", "event", "case", "after", "limit"))
    fmt = arg_choice("format", ("json", "csv"), "json")
    where = audit_export.filters(since=arg_str("from", 40), until=arg_str("to", 40), event=arg_str("event", 1000),
                                 case_id=arg_int("case", None, 1, INT32))
    after = arg_int("after", 0, 0, INT32) or 0
    if fmt == "json":
        limit = arg_int("limit", audit_export.PAGE_DEFAULT, 1, audit_export.PAGE_MAX) or audit_export.PAGE_DEFAULT
        return reply(audit_export.export_page(runtime(), actor(), where, after, limit))
    chunks, name = audit_export.export_csv(runtime(), actor(), where, after)
    response = Response((chunk.encode("utf-8") for chunk in chunks), mimetype="text/csv")
    # the same Content-Disposition as every download (RFC 5987 name, ASCII fallback)
    response.headers["Content-Disposition"] = attachment(b"", name, "text/csv", "audit.csv").headers[
        "Content-Disposition"]
    return response

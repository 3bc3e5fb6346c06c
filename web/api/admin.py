"""The clock, notifications, the holiday calendar and incidents."""

from __future__ import annotations

from flask import Response

from engine.services import clock_admin, holiday_admin, incidents, notifications

from . import api
from .common import INT32, actor, arg_bool, arg_int, check_args, json_body, reply, runtime


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

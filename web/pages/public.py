"""Public disclosure (信息公开, §13), open to anyone without logging in: the closed cases their closing allowed to
publish, with the agreement's or judgment's summary. What is shown, and what never is (persons' names unmasked, ID
numbers), is decided by ``engine.services.disclosure``; these views only render it."""

from __future__ import annotations

from flask import render_template

from engine.services import disclosure
from web.api.common import arg_int

from . import pages, runtime

PER_PAGE = 20


@pages.get("/public")
def public_cases() -> str:
    page = arg_int("page", 1, 1, 100_000) or 1
    result = disclosure.published_cases(runtime(), page=page, per_page=PER_PAGE)
    return render_template("public/list.html", result=result, pages=max(1, -(-result["total"] // PER_PAGE)),
                           args={})


@pages.get("/public/cases/<id:case_id>")
def public_case(case_id: int) -> str:
    return render_template("public/case.html", case=disclosure.published_case(runtime(), case_id))

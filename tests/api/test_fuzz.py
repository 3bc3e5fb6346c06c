"""Hostile input, generated: every operation of the OpenAPI document with wild ids, query strings, bodies,
content types and callers. No reply is a 500, every status is one the document lists (or a 404/405 for a path
that no route matches), and every JSON reply matches its schema. Bounded: ECO_FUZZ_EXAMPLES per database."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests.integration.driver import COMPANY, LEAD

from .conftest import Caller, make_token, new_case, open_task, start_claim

STATS: Counter[tuple[str, int]] = Counter()
EXAMPLES = int(os.environ.get("ECO_FUZZ_EXAMPLES", "2000"))
USERS = ["officer1", "officer2", "division1", "supervisor1", "admin1", "analyst1"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
text = st.text(max_size=40)
RAW_BODIES = st.sampled_from([
    b"", b"{", b"null", b"[]", b'"x"', b"{}", b'{"a": NaN}', b'{"a": 1e400}', b'{"t": "\\ud800"}',
    b'{"t": "\\u0000"}', b"\xff\xfe\x00", b"[" * 3000, b'{"data": ' * 200, b'{"a": ' + b"9" * 5000 + b"}"])


@st.composite
def mutated(draw: Any, example: Any) -> Any:
    """The example with some fields replaced, removed or added."""
    if not isinstance(example, dict) or draw(st.booleans()):
        return draw(json_values) if draw(st.integers(0, 3)) == 0 else example
    out = dict(example)
    for key in list(out):
        choice = draw(st.integers(0, 6))
        if choice == 0:
            del out[key]
        elif choice == 1:
            out[key] = draw(json_values)
        elif choice == 2:
            out[key] = draw(mutated(out[key]))
    if draw(st.booleans()):
        out[draw(st.text(max_size=10))] = draw(json_values)
    return out


class World:
    """A case with documents and open tasks, and callers of every role."""

    def __init__(self, runtime: Any, app: Any, as_user: Any) -> None:
        self.app = app
        self.runtime = runtime
        self.spec = app.test_client().get("/api/v1/openapi.json").json
        self.callers = {u: Caller(app.test_client(), make_token(runtime, u, hours=24 * 365 * 100)) for u in USERS}
        officer = self.callers["officer1"]
        self.case_id = new_case(officer)["id"]
        start_claim(as_user, self.case_id)
        self.task_id = open_task(officer, self.case_id, "conduct_investigation")["id"]
        lead = new_case(officer)["id"]
        screen = open_task(officer, lead, "screen_lead")["id"]
        registering = new_case(officer)["id"]
        officer.post(f"/api/v1/tasks/{open_task(officer, registering, 'screen_lead')['id']}/complete",
                     json={"data": {"screening_result": "start_claim", "screening_reason": "符合"}})
        register = open_task(officer, registering, "register_claim_start")["id"]
        self.document_id = officer.get(f"/api/v1/cases/{self.case_id}/documents").json[0]["id"]
        self.values = {"case_id": [self.case_id, lead], "task_id": [self.task_id, screen, register], "document_id": [self.document_id],
                       "notification_id": [1], "incident_id": [1], "process_id": ["eco_damage_claim", "consultation"],
                       "version": [1], "year": [2026, 2027], "name": ["restoration_completed", "pil_case_accepted"]}
        self.examples = {
            "createCase": {**LEAD, "obligors": [COMPANY]},
            "deliverMessage": {"court": "福州市中级人民法院", "case_number": "（2026）闽01民初1号", "accepted_on": "2026-06-01"},
            "completeTask": [{"data": {"investigation_methods": ["documents"], "damage_exists": True}},
                             {"data": {"screening_result": "no_claim", "screening_reason": "不属于"}},
                             {"data": {"cause": "违法排污", "case_summary": "偷排", "obligors": [COMPANY, COMPANY]}}],
            "moveClock": {"advance": "PT1H"},
            "putHolidays": {"days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]},
            "issueToken": {"username": "officer1", "password": "demo"},
        }
        self.operations = [(path, method, op) for path, ops in self.spec["paths"].items() for method, op in ops.items()]

    def validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator({**schema, "components": self.spec["components"]})


@st.composite
def requests(draw: Any, world: World) -> dict[str, Any]:
    path, method, op = draw(st.sampled_from(world.operations))
    url = path
    for name in re.findall(r"{(\w+)}", path):
        if draw(st.integers(0, 9)) < 6:  # mostly real ids, so the views behind the routes are reached
            value = draw(st.sampled_from(world.values[name]))
        else:
            value = draw(st.one_of(st.integers(-3, 2**40).map(str), text.map(lambda t: quote(t, safe=""))))
        url = url.replace("{" + name + "}", str(value))
    query: list[tuple[str, str]] = []
    for param in op.get("parameters", []):
        if param["in"] == "query" and draw(st.booleans()):
            query.append((param["name"], draw(st.one_of(text, st.sampled_from(["1", "true", "csv", "all", "0"])))))
    if draw(st.integers(0, 5)) == 0:
        query.append((draw(st.text(min_size=1, max_size=8)), draw(text)))
    if query:
        url += "?" + urlencode(query)
    caller = draw(st.sampled_from(["officer1", "officer1", "officer1", *USERS, "nobody", "bad-token"]))
    kwargs: dict[str, Any] = {}
    kind = draw(st.integers(0, 5))
    if kind <= 2 and op["operationId"] in world.examples:
        example = world.examples[op["operationId"]]
        body = draw(mutated(draw(st.sampled_from(example)) if isinstance(example, list) else example))
        kwargs["data"] = json.dumps(body, ensure_ascii=draw(st.booleans()))
        kwargs["content_type"] = draw(st.sampled_from(["application/json", "application/json; charset=utf-8",
                                                        "text/plain"]))
    elif kind == 3:
        kwargs["data"] = draw(RAW_BODIES | st.binary(max_size=64))
        kwargs["content_type"] = draw(st.sampled_from(["application/json", "application/octet-stream", ""]))
    elif kind == 4 and op["operationId"] == "uploadProcessModel":
        import io

        content = draw(st.sampled_from([b"<a/>", b"", b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><a>&e;</a>"])
                       | st.binary(max_size=64))
        kwargs["data"] = {"file": (io.BytesIO(content), draw(st.sampled_from(["a.bpmn", "../../x.bpmn", "a.txt", ""])))}
        kwargs["content_type"] = "multipart/form-data"
    return {"method": method, "url": url, "caller": caller, "kwargs": kwargs, "path": path, "op": op}


@pytest.fixture
def world(runtime: Any, app: Any, as_user: Any) -> World:
    return World(runtime, app, as_user)


def check(world: World, req: dict[str, Any]) -> None:
    client = world.app.test_client()
    headers = {}
    if req["caller"] in world.callers and req["op"]["operationId"] == "revokeToken":
        headers = {"Authorization": f"Bearer {make_token(world.runtime, req['caller'])}"}  # keep the callers' own
    elif req["caller"] in world.callers:
        headers = world.callers[req["caller"]].headers
    elif req["caller"] == "bad-token":
        headers = {"Authorization": "Bearer forged"}
    response = getattr(client, req["method"])(req["url"], headers=headers, **req["kwargs"])
    status = response.status_code
    STATS[(req["op"]["operationId"], status)] += 1
    assert status != 500, (req["method"], req["url"], req["kwargs"], response.get_data(as_text=True)[:500])
    documented = req["op"]["responses"]
    if str(status) not in documented:
        # only a path that no route matches (a wild id) may answer outside the document
        assert status in (404, 405), (req["method"], req["url"], status, response.get_json())
        assert set(response.json["error"]) == {"code", "message", "fields"}
        return
    content = documented[str(status)].get("content", {})
    if "application/json" in content and response.mimetype == "application/json":
        schema = content["application/json"]["schema"]
        errors = sorted(world.validator(schema).iter_errors(response.json), key=str)
        assert not errors, (req["method"], req["url"], status, [e.message for e in errors[:3]])
    elif content:
        assert response.mimetype in content or response.mimetype.split(";")[0] in content, (req["url"], response.mimetype)


def test_hostile_requests_never_500_and_match_the_document(world: World) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data: Any) -> None:
        check(world, data.draw(requests(world)))

    run()
    if os.environ.get("ECO_FUZZ_STATS"):
        print(sorted(STATS.items()))


def test_every_documented_path_is_served(world: World) -> None:
    """The document and the routes agree: each documented operation reaches a view (no 404/405 from routing)."""
    rules = {(r.rule, m.lower()) for r in world.app.url_map.iter_rules() for m in r.methods}
    converted = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule): None for rule, _ in rules}
    for path, method, _ in world.operations:
        assert path in converted, path
        assert any(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule) == path and m == method for rule, m in rules), (path, method)
    documented = {p for p, _, _ in world.operations}
    for rule, _ in rules:
        shown = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)
        if shown.startswith("/api/") or shown == "/healthz":
            assert shown in documented, f"route {rule} is not in the OpenAPI document"

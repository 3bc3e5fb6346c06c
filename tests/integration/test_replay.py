"""Save = validate, replay, then deploy (issue 11): a changed diagram is checked (every problem at once, each with its
element), re-run on the recorded history of past cases without touching them (identical, or where and how it
diverges), and deployed as a new version audited with the replay's summary; running cases stay on their version."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from sqlalchemy import func, select

from engine.auth.users import get_actor
from engine.common import clock
from engine.common.errors import Conflict, Forbidden, ValidationFailed
from engine.process.deploy import deploy_xml, latest
from engine.process.operators import build_operators
from engine.process.replay import ReplayFacts, replay_operators
from engine.services import messages, model_changes
from engine.store import models
from engine.store.models import (
    AuditEvent,
    CaseNumberCounter,
    Deadline,
    Document,
    HumanTask,
    Notification,
    Obligor,
    ObligorGroup,
    ProcessInstance,
    SpecBundle,
    WaitingTimer,
)

from .driver import Case

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def q(tag: str) -> str:
    return f"{{{BPMN}}}{tag}"


def insert_task_after(xml: str, source: str, new_id: str, name: str, form: str = "urge_claim_start",
                      role: str = "officer") -> str:
    """``xml`` with a user task ``new_id`` on the one sequence flow leaving ``source``."""
    root = etree.fromstring(xml.encode("utf-8"))
    flows = [f for f in root.iter(q("sequenceFlow")) if f.get("sourceRef") == source]
    assert len(flows) == 1, flows
    flow = flows[0]
    container, target_id = flow.getparent(), flow.get("targetRef")
    target = next(e for e in container if e.get("id") == target_id)
    task = etree.SubElement(container, q("userTask"), id=new_id, name=name)
    props = etree.SubElement(etree.SubElement(task, q("extensionElements")), f"{{{SPIFF}}}properties")
    for key, value in (("role", role), ("form", form), ("stage", "lead")):
        etree.SubElement(props, f"{{{SPIFF}}}property", name=key, value=value)
    etree.SubElement(task, q("incoming")).text = flow.get("id")
    out_id = f"flow_{new_id}_out"
    etree.SubElement(task, q("outgoing")).text = out_id
    etree.SubElement(container, q("sequenceFlow"), id=out_id, sourceRef=new_id, targetRef=target_id)
    flow.set("targetRef", new_id)
    for incoming in target.findall(q("incoming")):
        if incoming.text == flow.get("id"):
            incoming.text = out_id
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def set_property(xml: str, element: str, key: str, value: str) -> str:
    root = etree.fromstring(xml.encode("utf-8"))
    node = next(e for e in root.iter() if e.get("id") == element)
    props = node.find(f"{q('extensionElements')}/{{{SPIFF}}}properties")
    found = [p for p in props if p.get("name") == key]
    if found:
        found[0].set("value", value)
    else:
        etree.SubElement(props, f"{{{SPIFF}}}property", name=key, value=value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def main_xml(runtime: Any, process_id: str = "eco_damage_claim") -> str:
    with runtime.db.transaction() as s:
        return latest(s, process_id).xml


def analyst(runtime: Any) -> Any:
    return get_actor(runtime, "analyst1")


def snapshot(runtime: Any) -> dict[str, Any]:
    """Every row a replay could conceivably touch (what the cases are made of), and the audit trail's length."""
    tables = {"cases": models.Case, "instances": ProcessInstance, "tasks": HumanTask, "timers": WaitingTimer,
              "deadlines": Deadline, "documents": Document, "notifications": Notification, "obligors": Obligor,
              "groups": ObligorGroup, "numbers": CaseNumberCounter, "bundles": SpecBundle}
    out: dict[str, Any] = {}
    with runtime.db.transaction() as s:
        for name, model in tables.items():
            columns = [c.key for c in model.__table__.columns]
            rows = s.execute(select(model)).scalars()
            out[name] = sorted(tuple(repr(getattr(row, c)) for c in columns) for row in rows)
        out["audit"] = s.execute(select(func.count(AuditEvent.id))).scalar_one()
    return out


@pytest.fixture
def cases(runtime: Any) -> dict[str, Case]:
    """Cases of the department at different stages: an undecided lead, a lead closed, a claim under investigation
    with a court notice, a lead whose decision period passed (the supervisor's escalation open)."""
    undecided = Case(runtime)
    closed = Case(runtime)
    closed.do("screen_lead", {"screening_result": "no_claim", "screening_reason": "已另案处理"})
    claim = Case(runtime)
    claim.start_claim()
    claim.investigate(needs_assessment=True)
    officer = get_actor(runtime, "officer1")
    messages.deliver(runtime, officer, claim.id, "pil_case_accepted",
                     {"court": "福州市中级人民法院", "case_number": "（2026）闽01民初1号", "accepted_on": claim.today()})
    messages.deliver(runtime, officer, claim.id, "court_notice_received",
                     {"court": "福州市中级人民法院", "received_on": claim.today()})
    late = Case(runtime)
    late.advance("P40D")  # the lead decision periods of the undecided leads expire: escalations appear
    return {"undecided": undecided, "closed": closed, "claim": claim, "late": late}


def diverged(report: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    return {c["case_id"]: c["divergences"] for c in report["diverged"]}


def test_an_unchanged_diagram_replays_every_case_identically(runtime, cases):
    before = snapshot(runtime)
    report = model_changes.replay_change(runtime, analyst(runtime), {"eco_damage_claim": main_xml(runtime)})
    assert report["summary"]["cases"] == 4
    assert report["diverged"] == [] and sorted(report["identical"]) == sorted(c.id for c in cases.values())
    after = snapshot(runtime)
    assert after.pop("audit") == before.pop("audit") + 1  # the report's own audit row, nothing else
    assert after == before


def test_a_task_added_after_screening_diverges_exactly_for_the_cases_that_passed_there(runtime, cases):
    changed = insert_task_after(main_xml(runtime), "screen_lead", "review_screening", "复核线索核查",
                                role="division_head")
    files = {"eco_damage_claim": changed}
    assert model_changes.validate_change(runtime, analyst(runtime), files) == []
    before = snapshot(runtime)
    progress: list[tuple[int, int]] = []
    report = model_changes.replay_change(runtime, analyst(runtime), files, ["eco_env"],
                                         progress=lambda done, total: progress.append((done, total)))
    assert progress[-1] == (4, 4)
    after = snapshot(runtime)
    assert after.pop("audit") == before.pop("audit") + 1 and after == before  # the cases are untouched

    found = diverged(report)
    assert set(found) == {cases["closed"].id, cases["claim"].id}
    assert sorted(report["identical"]) == sorted([cases["undecided"].id, cases["late"].id])
    assert report["summary"] == {"cases": 4, "identical": 2, "diverged": 2, "by_kind": {"new_task": 2},
                                 "by_element": {"review_screening": 2}}
    # the closed lead: the new task appears right after the completion of screen_lead, and the case never ends
    first, end = found[cases["closed"].id]
    assert (first["kind"], first["element"], first["step"], first["event"], first["offered"]) == (
        "new_task", "review_screening", 1, "办结“线索核查”", ["复核线索核查"])
    assert "复核线索核查" in first["message"]
    assert (end["kind"], end["step"], end["event"]) == ("different_end", None, "结束时比对")
    assert "lead_closed" in end["message"] and "复核线索核查" in end["message"]
    # the claim: the new task appears, then register_claim_start, which the case completed next, is not offered
    first, blocked = found[cases["claim"].id]
    assert (first["kind"], first["element"], first["step"]) == ("new_task", "review_screening", 1)
    assert (blocked["kind"], blocked["element"], blocked["step"], blocked["event"]) == (
        "not_offered", "register_claim_start", 2, "办结“索赔启动登记”")
    assert "索赔启动登记" in blocked["message"] and blocked["offered"] == ["复核线索核查"]

    with runtime.db.transaction() as s:
        audit = s.get(AuditEvent, report["replay_id"])
        assert audit.event == "model_replay" and audit.detail["summary"]["diverged"] == 2

    deployed = model_changes.deploy_change(runtime, analyst(runtime), files)
    assert [(v["id"], v["version"], v["created"]) for v in deployed["versions"]] == [("eco_damage_claim", 2, True)]
    assert deployed["replay_id"] == report["replay_id"]
    with runtime.db.transaction() as s:
        row = s.execute(select(AuditEvent).where(AuditEvent.title.like("部署流程修改%"))).scalar_one()
        assert row.who == "analyst1" and row.detail["replay"]["diverged"] == 2
        assert row.detail["versions"] == {"eco_damage_claim": 2}

    # old cases stay on version 1 and finish there; a new case runs version 2
    fresh = Case(runtime)
    with runtime.db.transaction() as s:
        on = {i.case_id: s.get(SpecBundle, i.bundle_id).versions["eco_damage_claim"]
              for i in s.execute(select(ProcessInstance).where(ProcessInstance.process_id == "eco_damage_claim"))
              .scalars()}
    assert on == {**{c.id: 1 for c in cases.values()}, fresh.id: 2}
    undecided = cases["undecided"]
    undecided.do("screen_lead", {"screening_result": "no_claim", "screening_reason": "旧版本继续办理"})
    assert undecided.view()["status"] == "lead_closed"
    fresh.do("screen_lead", {"screening_result": "no_claim", "screening_reason": "新版本"})
    assert fresh.open_tasks() == ["review_screening"]


def test_a_guard_that_now_refuses_and_a_form_that_now_refuses(runtime, cases):
    guarded = set_property(main_xml(runtime), "screen_lead", "guard", "screening_result != 'no_claim'")
    guarded = set_property(guarded, "screen_lead", "guard_message", "本版本不允许不予索赔")
    report = model_changes.replay_change(runtime, analyst(runtime), {"eco_damage_claim": guarded})
    found = diverged(report)
    assert list(found) == [cases["closed"].id]
    [refused] = found[cases["closed"].id]
    assert (refused["kind"], refused["element"], refused["step"]) == ("guard_refuses", "screen_lead", 1)
    assert "本版本不允许不予索赔" in refused["message"]

    reformed = set_property(main_xml(runtime), "register_claim_start", "form", "urge_claim_start")
    found = diverged(model_changes.replay_change(runtime, analyst(runtime), {"eco_damage_claim": reformed}))
    assert list(found) == [cases["claim"].id]
    assert [(d["kind"], d["element"]) for d in found[cases["claim"].id]] == [("form_refuses", "register_claim_start")]


def test_timers_fire_at_the_recorded_moments(runtime, cases):
    """A longer lead-decision period: the escalation the late lead got is not due yet at the recorded moment."""
    longer = main_xml(runtime).replace(
        '<spiffworkflow:parameter id="length" type="any" value="30"/>',
        '<spiffworkflow:parameter id="length" type="any" value="90"/>', 1)
    found = diverged(model_changes.replay_change(runtime, analyst(runtime), {"eco_damage_claim": longer}))
    assert set(found) == {cases["undecided"].id, cases["late"].id}
    kinds = [(d["kind"], d["element"]) for d in found[cases["late"].id]]
    assert kinds == [("timer_moved", "lead_not_decided"), ("task_missing", "urge_claim_start")]
    moved, missing = found[cases["late"].id]
    # 90 days from 2026-06-01 end on Sunday 2026-08-30, rolled to Monday: the timer is due at 00:00 the day after
    assert "回放中其到期时间为 2026-09-01T00:00:00+08:00" in moved["message"]
    assert (moved["step"], moved["event"]) == (1, "定时事件“lead_not_decided”到期")
    assert "督促启动索赔" in missing["message"]


def test_broken_diagrams_list_every_problem_with_its_element(runtime):
    xml = main_xml(runtime)
    broken = xml.replace('id="close_case"', 'id="finish_case"').replace(
        'sourceRef="close_case"', 'sourceRef="finish_case"').replace(
        'targetRef="close_case"', 'targetRef="finish_case"')  # a contract id removed
    broken = set_property(broken, "screen_lead", "form", "no_such_form")  # an unknown form
    broken = broken.replace('calledElement="damage_assessment"', 'calledElement="no_such_process"')
    condition = next(e for e in etree.fromstring(xml.encode("utf-8")).iter(q("conditionExpression")))
    broken = broken.replace(f">{condition.text}<", ">screening_result ==<", 1)  # a condition that does not compile
    problems = model_changes.validate_change(runtime, analyst(runtime), {"eco_damage_claim": broken})
    by_element = {(p["process"], p["element"]): p["message"] for p in problems}
    assert "close_case" in by_element[("eco_damage_claim", "close_case")]
    assert "no_such_form" in by_element[("eco_damage_claim", "screen_lead")]
    assert "no_such_process" in by_element[("eco_damage_claim", "damage_assessment")]
    gateway = next(key for key, message in by_element.items() if "条件" in message)
    assert gateway[1] == condition.getparent().get("sourceRef")
    assert len(problems) == 4

    with pytest.raises(ValidationFailed) as refused:
        model_changes.replay_change(runtime, analyst(runtime), {"eco_damage_claim": broken})
    assert {"eco_damage_claim.screen_lead", "eco_damage_claim.close_case"} <= set(refused.value.fields)
    with pytest.raises(ValidationFailed):
        model_changes.deploy_change(runtime, analyst(runtime), {"eco_damage_claim": broken})
    with runtime.db.transaction() as s, pytest.raises(ValidationFailed) as refused:  # deploy_xml checks forms too
        deploy_xml(s, set_property(xml, "screen_lead", "form", "no_such_form"), "analyst1")
    assert "no_such_form" in refused.value.fields["screen_lead"]
    with runtime.db.transaction() as s:
        assert latest(s, "eco_damage_claim").version == 1

    not_xml = model_changes.validate_change(runtime, analyst(runtime), {"consultation": "<bpmn:definitions"})
    assert [p["element"] for p in not_xml] == ["file"]
    wrong = model_changes.validate_change(runtime, analyst(runtime), {"consultation": xml})
    assert "eco_damage_claim" in wrong[0]["message"]


def test_deploying_needs_a_replay_of_exactly_these_files_and_an_analyst(runtime):
    changed = insert_task_after(main_xml(runtime), "screen_lead", "review_screening", "复核线索核查")
    files = {"eco_damage_claim": changed}
    with pytest.raises(Conflict):
        model_changes.deploy_change(runtime, analyst(runtime), files)
    model_changes.replay_change(runtime, analyst(runtime), {"eco_damage_claim": main_xml(runtime)})
    with pytest.raises(Conflict):  # a replay of other files does not count
        model_changes.deploy_change(runtime, analyst(runtime), files)
    officer = get_actor(runtime, "officer1")
    for call in (lambda: model_changes.validate_change(runtime, officer, files),
                 lambda: model_changes.replay_change(runtime, officer, files),
                 lambda: model_changes.deploy_change(runtime, officer, files)):
        with pytest.raises(Forbidden):
            call()
    with pytest.raises(ValidationFailed):
        model_changes.validate_change(runtime, analyst(runtime), {"../x": changed})
    with pytest.raises(ValidationFailed):
        model_changes.replay_change(runtime, analyst(runtime), files, ["no_such_department"])
    report = model_changes.replay_change(runtime, get_actor(runtime, "admin1"), files)
    assert model_changes.deploy_change(runtime, analyst(runtime), files, report["replay_id"])["versions"][0][
        "version"] == 2


def test_the_replay_operators_stand_in_for_every_real_one():
    facts = ReplayFacts(case_id=1, number=None, table=None, now=clock.now())  # type: ignore[arg-type]
    assert set(replay_operators(facts)) == set(build_operators(lambda: None))

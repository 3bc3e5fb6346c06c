"""Versions and migration (issue 11): a readable diff between two versions of a process; chosen running cases move
to the latest version where nothing they have reached changed, the others are refused with the reason; each move
is audited and the legal deadlines stay as they were."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.auth.users import get_actor
from engine.common.errors import Forbidden, NotFound, ValidationFailed
from engine.process.deploy import deploy_xml
from engine.services import incidents, model_changes
from engine.store.models import AuditEvent, Deadline, HumanTask, Incident, ProcessInstance, SpecBundle, WaitingTimer

from .driver import Case
from .test_replay import insert_task_after, main_xml, set_property


def deploy(runtime: Any, xml: str) -> int:
    with runtime.db.transaction() as s:
        return deploy_xml(s, xml, "analyst1").version


def analyst(runtime: Any) -> Any:
    return get_actor(runtime, "analyst1")


def version_of(runtime: Any, case_id: int) -> int:
    with runtime.db.transaction() as s:
        inst = s.execute(select(ProcessInstance).where(ProcessInstance.case_id == case_id,
                                                       ProcessInstance.process_id == "eco_damage_claim")).scalar_one()
        return int(s.get(SpecBundle, inst.bundle_id).versions["eco_damage_claim"])


def deadlines(runtime: Any) -> list[tuple[Any, ...]]:
    with runtime.db.transaction() as s:
        return sorted((d.case_id, d.group_no, d.name, d.due_on, d.state, d.paused_days, d.basis)
                      for d in s.execute(select(Deadline)).scalars())


def test_the_diff_names_a_renamed_task_and_a_changed_property(runtime):
    xml = main_xml(runtime)
    changed = xml.replace('name="线索核查"', 'name="线索初步核查"', 1)
    changed = set_property(changed, "register_claim_start", "role", "division_head")
    changed = changed.replace('<spiffworkflow:parameter id="length" type="any" value="30"/>',
                              '<spiffworkflow:parameter id="length" type="any" value="45"/>', 1)
    assert deploy(runtime, changed) == 2
    diff = model_changes.version_diff(runtime, analyst(runtime), "eco_damage_claim", 1, 2)
    assert (diff["from"]["version"], diff["to"]["version"]) == (1, 2) and diff["to"]["deployed_by"] == "analyst1"
    assert diff["added"] == [] and diff["removed"] == [] and not diff["identical"]
    changes = {c["id"]: c for c in diff["changed"]}
    assert set(changes) == {"screen_lead", "register_claim_start", "compute_lead_decision_deadline"}
    screen = changes["screen_lead"]
    assert (screen["type"], screen["type_label"], screen["name"]) == ("userTask", "用户任务", "线索初步核查")
    assert screen["changes"] == [{"field": "name", "label": "名称", "before": "线索核查", "after": "线索初步核查"}]
    assert changes["register_claim_start"]["changes"] == [
        {"field": "property:role", "label": "属性 role", "before": "officer", "after": "division_head"}]
    assert changes["compute_lead_decision_deadline"]["changes"] == [
        {"field": "parameter:length", "label": "服务任务参数 length", "before": "30", "after": "45"}]

    added = insert_task_after(changed, "conclude_investigation", "review_investigation", "复核调查结论")
    assert deploy(runtime, added) == 3
    diff = model_changes.version_diff(runtime, analyst(runtime), "eco_damage_claim", 2, 3)
    assert {(a["id"], a["type"]) for a in diff["added"]} == {
        ("review_investigation", "userTask"), ("flow_review_investigation_out", "sequenceFlow")}
    flow = next(c for c in diff["changed"] if c["id"] == "flow_conclude_investigation_to_render_form2")
    assert [(c["label"], c["before"], c["after"]) for c in flow["changes"]] == [
        ("终点", "render_form2", "review_investigation")]
    back = model_changes.version_diff(runtime, analyst(runtime), "eco_damage_claim", 3, 2)
    assert {r["id"] for r in back["removed"]} == {"review_investigation", "flow_review_investigation_out"}

    with pytest.raises(NotFound):
        model_changes.version_diff(runtime, analyst(runtime), "eco_damage_claim", 1, 9)
    with pytest.raises(Forbidden):
        model_changes.version_diff(runtime, get_actor(runtime, "officer1"), "eco_damage_claim", 1, 2)


def test_a_layout_change_is_only_a_layout_change(runtime):
    xml = main_xml(runtime)
    moved = xml.replace('<dc:Bounds x="', '<dc:Bounds x="1', 1)
    assert moved != xml
    deploy(runtime, moved)
    diff = model_changes.version_diff(runtime, analyst(runtime), "eco_damage_claim", 1, 2)
    assert diff["layout_only"] and not diff["changed"] and not diff["added"] and not diff["removed"]


def test_a_safe_migration_moves_a_case_and_an_unsafe_one_is_refused_with_the_reason(runtime):
    ahead = Case(runtime)  # at screen_lead: the change lies ahead of it
    passed = Case(runtime)  # has completed conclude_investigation, the element the change touches
    passed.start_claim()
    passed.investigate()
    closed = Case(runtime)
    closed.do("screen_lead", {"screening_result": "no_claim", "screening_reason": "已另案处理"})
    assert deploy(runtime, insert_task_after(main_xml(runtime), "conclude_investigation", "review_investigation",
                                             "复核调查结论")) == 2
    before_deadlines = deadlines(runtime)
    with runtime.db.transaction() as s:
        timers_before = sorted((t.id, t.due_at) for t in s.execute(select(WaitingTimer)).scalars())
    screen_task = ahead.task("screen_lead")["id"]

    preview = model_changes.migration_preview(runtime, analyst(runtime), [ahead.id, passed.id, closed.id])
    assert [m["case_id"] for m in preview["movable"]] == [ahead.id]
    [instance] = preview["movable"][0]["instances"]
    assert (instance["from"]["eco_damage_claim"], instance["to"]["eco_damage_claim"]) == (1, 2)
    assert "新增“复核调查结论”" in instance["ahead"]
    refused = {r["case_id"]: r["reasons"] for r in preview["refused"]}
    assert set(refused) == {passed.id, closed.id}
    assert any("已完成的环节“形成调查结论”在新版本中被修改" in r and "流出连线" in r for r in refused[passed.id])
    assert refused[closed.id] == ["案件已结束（lead_closed），没有运行中的流程"]
    assert version_of(runtime, ahead.id) == 1  # a preview moves nothing

    result = model_changes.migrate_cases(runtime, analyst(runtime), [ahead.id, passed.id])
    assert [m["case_id"] for m in result["moved"]] == [ahead.id]
    assert [r["case_id"] for r in result["refused"]] == [passed.id]
    assert (version_of(runtime, ahead.id), version_of(runtime, passed.id)) == (2, 1)
    with runtime.db.transaction() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.event == "migrated")).scalars().all()
        assert [(r.case_id, r.who) for r in rows] == [(ahead.id, "analyst1")]
        assert rows[0].detail["instances"][0]["to"]["eco_damage_claim"] == 2
        assert "第1版→第2版" in rows[0].title
        timers_after = sorted((t.id, t.due_at) for t in s.execute(select(WaitingTimer)).scalars())
        assert s.get(HumanTask, screen_task).state == "open"  # the open task is the same task, still in the inbox
    assert deadlines(runtime) == before_deadlines  # legal deadlines kept, not re-based
    assert timers_after == timers_before

    # the moved case runs the new version from where it was; the refused one finishes on its own
    ahead.start_claim()
    ahead.investigate()
    assert "review_investigation" in ahead.open_tasks()
    assert "review_investigation" not in passed.open_tasks()

    again = model_changes.migration_preview(runtime, analyst(runtime), [ahead.id])
    assert again["refused"][0]["reasons"] == ["已是最新版本"]


def test_a_case_with_an_open_incident_is_not_moved(runtime):
    case = Case(runtime)
    with runtime.db.transaction() as s:
        inst = s.execute(select(ProcessInstance).where(ProcessInstance.case_id == case.id)).scalar_one()
        s.add(Incident(instance_id=inst.id, case_id=case.id, element_id="screen_lead", message="测试异常",
                       created_at=inst.created_at))
    deploy(runtime, insert_task_after(main_xml(runtime), "conclude_investigation", "review_investigation", "复核"))
    result = model_changes.migrate_cases(runtime, analyst(runtime), [case.id])
    assert result["moved"] == [] and "未处理的流程异常" in result["refused"][0]["reasons"][0]
    assert incidents.open_incidents(runtime, get_actor(runtime, "admin1"), case.id)
    for bad in ([], "1", [True], list(range(500))):
        with pytest.raises(ValidationFailed):
            model_changes.migrate_cases(runtime, analyst(runtime), bad)
    with pytest.raises(Forbidden):
        model_changes.migrate_cases(runtime, get_actor(runtime, "officer1"), [case.id])

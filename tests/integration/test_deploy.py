"""Process versions: deployed by content hash, a changed diagram is a new version, running cases keep theirs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.common.errors import ValidationFailed
from engine.process.deploy import deploy_directory, deploy_xml, latest
from engine.store.models import ProcessInstance, ProcessVersion, SpecBundle

from .driver import Case


def test_unchanged_files_are_not_redeployed(runtime):
    with runtime.db.transaction() as s:
        before = s.execute(select(ProcessVersion.process_id, ProcessVersion.version)).all()
    deploy_directory(runtime, "again")
    with runtime.db.transaction() as s:
        after = s.execute(select(ProcessVersion.process_id, ProcessVersion.version)).all()
    assert sorted(before) == sorted(after)
    assert {v for _, v in after} == {1}


def test_a_changed_diagram_is_a_new_version_and_running_cases_keep_theirs(runtime):
    old_case = Case(runtime)
    with runtime.db.transaction() as s:
        xml = latest(s, "eco_damage_claim").xml
        changed = xml.replace('name="线索核查"', 'name="线索核查（新版）"')
        assert changed != xml
        version = deploy_xml(s, changed, "analyst1")
        assert version.version == 2
        assert deploy_xml(s, changed, "analyst1").id == version.id  # the same content again: no version 3
    new_case = Case(runtime)
    assert old_case.task("screen_lead")["title"] == "线索核查"
    assert new_case.task("screen_lead")["title"] == "线索核查（新版）"
    with runtime.db.transaction() as s:
        bundles = {i.case_id: s.get(SpecBundle, i.bundle_id).versions["eco_damage_claim"]
                   for i in s.execute(select(ProcessInstance).where(ProcessInstance.case_id.isnot(None))).scalars()}
    assert bundles == {old_case.id: 1, new_case.id: 2}
    old_case.do("screen_lead", {"screening_result": "no_claim", "screening_reason": "旧版本继续运行"})
    assert old_case.view()["status"] == "lead_closed"


def test_a_diagram_that_drops_a_contract_id_is_refused_with_every_problem(runtime):
    with runtime.db.transaction() as s:
        xml = latest(s, "consultation").xml
    broken = xml.replace('id="record_consultation_meeting"', 'id="meeting_record"')
    with runtime.db.transaction() as s, pytest.raises(ValidationFailed) as refused:
        deploy_xml(s, broken, "analyst1")
    assert "record_consultation_meeting" in refused.value.fields["ids"]


def test_external_entities_are_not_resolved(runtime, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    with runtime.db.transaction() as s:
        xml = latest(s, "damage_assessment").xml
    hostile = xml.replace('<?xml version=\'1.0\' encoding=\'UTF-8\'?>', "").replace(
        '<?xml version="1.0" encoding="UTF-8"?>', "")
    hostile = (f'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>\n'
               + hostile.replace('name="确定鉴定评估方式"', 'name="&x;"'))
    with runtime.db.transaction() as s:
        try:
            version = deploy_xml(s, hostile, "analyst1")
        except ValidationFailed:
            return  # refused outright is fine too
        assert "TOP-SECRET" not in version.xml
    with runtime.db.transaction() as s:
        names = [v.name for v in s.execute(select(ProcessVersion)).scalars()]
    assert all("TOP-SECRET" not in n for n in names)


def test_a_restart_keeps_the_analysts_version_and_warns_that_the_file_differs(runtime):
    from engine.services.startup import start

    with runtime.db.transaction() as s:
        xml = latest(s, "eco_damage_claim").xml
        deploy_xml(s, xml.replace('name="线索核查"', 'name="线索核查（分析员版）"'), "analyst1")
    warnings = start(runtime)  # a restart of the service on the same database
    with runtime.db.transaction() as s:
        current = latest(s, "eco_damage_claim")
        assert (current.version, current.deployed_by) == (2, "analyst1")
    assert len(warnings) == 1 and "eco_damage_claim" in warnings[0] and "eco-claims deploy" in warnings[0]
    assert Case(runtime).task("screen_lead")["title"] == "线索核查（分析员版）"


@pytest.mark.parametrize("bad_id", ["../../etc", "Eco", "a b", "x" * 81, ""])
def test_a_process_id_is_an_identifier(runtime, bad_id):
    with runtime.db.transaction() as s:
        xml = latest(s, "lead_screening").xml.replace('id="lead_screening"', f'id="{bad_id}"', 1)
        with pytest.raises(ValidationFailed, match="流程 id"):
            deploy_xml(s, xml, "analyst1")

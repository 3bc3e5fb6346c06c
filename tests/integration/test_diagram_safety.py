"""What a process analyst's diagram may do: every expression and script runs in the sandbox. Code that could
reach the server is refused at deploy with every problem named by its element; what depends on data ends as an
incident with no side effect; a cycle of automatic steps becomes an incident instead of running forever."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select

from engine.common.actor import SYSTEM
from engine.common.errors import ValidationFailed
from engine.process.deploy import deploy_xml
from engine.process.instances import start_instance
from engine.store.models import Incident

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://eco-claims.example/bpmn">\n'
        '<bpmn:process id="{pid}" name="安全测试" isExecutable="true">\n'
        '<bpmn:startEvent id="started"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>\n')


def script_process(pid: str, script: str, condition: str = "True", guard: str = "True", param: str = "'x'",
                   prescript: str = "") -> str:
    """start → script task → gateway (condition) → user task (pre-script, guard) → service task (parameter) → end."""
    pre = f"<spiffworkflow:preScript>{escape(prescript)}</spiffworkflow:preScript>" if prescript else ""
    return HEAD.format(pid=pid) + f"""
<bpmn:scriptTask id="compute"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
  <bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>
<bpmn:exclusiveGateway id="decide" default="f3"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:userTask id="review"><bpmn:extensionElements>{pre}<spiffworkflow:properties>
  <spiffworkflow:property name="role" value="supervisor"/><spiffworkflow:property name="form" value="urge_claim_start"/>
  <spiffworkflow:property name="guard" value="{escape(guard, {'"': '&quot;'})}"/></spiffworkflow:properties></bpmn:extensionElements>
  <bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
<bpmn:serviceTask id="tell"><bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="notify">
  <spiffworkflow:parameters><spiffworkflow:parameter id="role" type="any" value="'supervisor'"/>
  <spiffworkflow:parameter id="text" type="any" value="{escape(param, {'"': '&quot;'})}"/></spiffworkflow:parameters>
  </spiffworkflow:serviceTaskOperator></bpmn:extensionElements><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:serviceTask>
<bpmn:endEvent id="ended"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="started" targetRef="compute"/>
<bpmn:sequenceFlow id="f1" sourceRef="compute" targetRef="decide"/>
<bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="review"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f3" sourceRef="decide" targetRef="review"/>
<bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="tell"/>
<bpmn:sequenceFlow id="f5" sourceRef="tell" targetRef="ended"/>
</bpmn:process></bpmn:definitions>"""


def cycle_process(pid: str) -> str:
    """A script task and a gateway that lead back to it with nothing to wait for."""
    return HEAD.format(pid=pid) + """
<bpmn:scriptTask id="spin"><bpmn:incoming>f0</bpmn:incoming><bpmn:incoming>back</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
  <bpmn:script>rounds = [1]</bpmn:script></bpmn:scriptTask>
<bpmn:exclusiveGateway id="again" default="back"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>back</bpmn:outgoing><bpmn:outgoing>out</bpmn:outgoing></bpmn:exclusiveGateway>
<bpmn:endEvent id="ended"><bpmn:incoming>out</bpmn:incoming></bpmn:endEvent>
<bpmn:sequenceFlow id="f0" sourceRef="started" targetRef="spin"/>
<bpmn:sequenceFlow id="f1" sourceRef="spin" targetRef="again"/>
<bpmn:sequenceFlow id="back" sourceRef="again" targetRef="spin"/>
<bpmn:sequenceFlow id="out" sourceRef="again" targetRef="ended"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">False</bpmn:conditionExpression></bpmn:sequenceFlow>
</bpmn:process></bpmn:definitions>"""


def _refusal(runtime, xml: str) -> dict[str, str]:
    with runtime.db.transaction() as s, pytest.raises(ValidationFailed) as refused:
        deploy_xml(s, xml, "analyst1")
    return refused.value.fields


@pytest.mark.parametrize(("where", "kwargs"), [
    ("compute", {"script": "__import__('os').system('touch {marker}')"}),
    ("decide", {"condition": "len(open('/etc/passwd').read()) > 0"}),
    ("review", {"prescript": "().__class__.__bases__[0].__subclasses__()"}),
    ("tell", {"param": "getattr(x, '__globals__')"}),
    ("review", {"guard": "__import__('subprocess').call(['touch', '{marker}'])"}),
    ("compute", {"script": "while True:\n    pass"}),
    ("decide", {"condition": "x ==="}),
])
def test_code_that_reaches_the_server_is_refused_at_deploy(runtime, tmp_path: Path, where: str, kwargs: dict) -> None:
    marker = tmp_path / "marker"
    kwargs = {k: v.format(marker=marker) for k, v in kwargs.items()}
    kwargs.setdefault("script", "x = 1")
    fields = _refusal(runtime, script_process("probe", **kwargs))
    assert where in fields, fields
    assert "Traceback" not in fields[where] and "/etc/passwd" not in "".join(fields.values()).replace(kwargs.get("condition", ""), "")
    assert not marker.exists()


def test_every_problem_is_listed_with_its_element(runtime) -> None:
    xml = script_process("probe", script="import os", condition="x ===", guard="__import__('os')",
                         param="open('/etc/passwd')")
    xml = xml.replace('<spiffworkflow:serviceTaskOperator id="notify">', '<spiffworkflow:serviceTaskOperator id="no_such_operator">')
    fields = _refusal(runtime, xml)
    assert {"compute", "decide", "review", "tell"} <= set(fields), fields
    assert "no_such_operator" in fields["tell"]


def test_data_dependent_work_ends_as_an_incident_without_side_effects(runtime, tmp_path: Path) -> None:
    # Statically fine, but the data makes it a memory bomb: the sandbox stops it, the instance keeps its state.
    xml = script_process("probe", script="big = 'x' * times")
    with runtime.db.transaction() as s:
        deploy_xml(s, xml, "analyst1")
        run = start_instance(runtime, s, "probe", SYSTEM, {"times": 10 ** 12})
        incident = s.execute(select(Incident).where(Incident.instance_id == run.instance.id)).scalar_one()
        assert incident.element_id == "compute"
        assert "Traceback" not in incident.message and len(incident.message) < 300
        assert incident.detail and "Sandbox" in incident.detail  # the technical cause, kept for supervisors
        assert run.wf.get_tasks()  # the instance is saved where it stopped
    with runtime.db.transaction() as s:  # ordinary data runs through
        run = start_instance(runtime, s, "probe", SYSTEM, {"times": 3})
        assert s.execute(select(Incident).where(Incident.instance_id == run.instance.id)).first() is None


def test_a_cycle_of_automatic_steps_becomes_an_incident(runtime) -> None:
    with runtime.db.transaction() as s:
        deploy_xml(s, cycle_process("spinner"), "analyst1")
        run = start_instance(runtime, s, "spinner", SYSTEM, {})
        incident = s.execute(select(Incident).where(Incident.instance_id == run.instance.id)).scalar_one()
        assert incident.element_id in ("spin", "again")
        assert "循环" in incident.message
        assert run.instance.status != "completed"

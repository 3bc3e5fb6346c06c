"""The diagrams: every element named in Chinese and drawn (diagram interchange), shapes not piled on each other,
every user task with a role and an existing form, every service task on a known operator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from engine.process.operators import build_operators

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
NODE_TAGS = ("startEvent", "endEvent", "userTask", "serviceTask", "scriptTask", "exclusiveGateway", "inclusiveGateway",
             "parallelGateway", "eventBasedGateway", "callActivity", "subProcess", "intermediateCatchEvent", "boundaryEvent")
CJK = re.compile(r"[\u4e00-\u9fff]")
FILES = sorted(BPMN_DIR.glob("*.bpmn"))


def nodes(root: etree._Element) -> list[etree._Element]:
    return [e for tag in NODE_TAGS for e in root.iter(f"{{{NS['bpmn']}}}{tag}")]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_element_is_named_in_chinese_and_drawn(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    shapes = {s.get("bpmnElement") for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")}
    for node in nodes(root):
        assert CJK.search(node.get("name") or ""), f"{node.get('id')} has no Chinese name"
        assert node.get("id") in shapes, f"{node.get('id')} is not drawn"
    for flow in root.iter(f"{{{NS['bpmn']}}}sequenceFlow"):
        edge = edges.get(flow.get("id"))
        assert edge is not None, f"{flow.get('id')} is not drawn"
        assert len(edge.findall("di:waypoint", NS)) >= 2


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_shapes_do_not_overlap(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    by_id = {n.get("id"): n for n in nodes(root)}
    boxes = {}
    for shape in root.iter(f"{{{NS['bpmndi']}}}BPMNShape"):
        element = by_id.get(shape.get("bpmnElement"))
        if element is None or element.tag.endswith("boundaryEvent"):
            continue  # boundary events sit on their host's border by design
        b = shape.find("dc:Bounds", NS)
        parent = element.getparent().get("id")
        boxes[element.get("id")] = (parent, float(b.get("x")), float(b.get("y")), float(b.get("width")), float(b.get("height")))
    ids = sorted(boxes)
    for i, a in enumerate(ids):
        pa, ax, ay, aw, ah = boxes[a]
        for b in ids[i + 1:]:
            pb, bx, by, bw, bh = boxes[b]
            if pa != pb:
                continue  # a subprocess contains its children
            overlap = ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah
            assert not overlap, f"{a} and {b} overlap"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_user_tasks_have_role_and_form_and_service_tasks_known_operators(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    operators = set(build_operators(lambda: None))
    roles = {"officer", "division_head", "department_head", "supervisor", "analyst", "admin"}
    for task in root.iter(f"{{{NS['bpmn']}}}userTask"):
        props = {p.get("name"): p.get("value") for p in task.iter(f"{{{NS['spiffworkflow']}}}property")}
        assert props.get("role") in roles, task.get("id")
        assert (BPMN_DIR / "forms" / f"{props.get('form')}.json").is_file(), task.get("id")
    for task in root.iter(f"{{{NS['bpmn']}}}serviceTask"):
        op = task.find(".//spiffworkflow:serviceTaskOperator", NS)
        assert op is not None and op.get("id") in operators, task.get("id")
        assert op.get("id") != task.get("id"), "a service task's id must differ from its operator's (spiff parser)"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_subprocess_has_its_own_plane_for_drill_down(path: Path) -> None:
    root = etree.parse(str(path)).getroot()
    planes = {p.get("bpmnElement"): p for p in root.iter(f"{{{NS['bpmndi']}}}BPMNPlane")}
    for sub in root.iter(f"{{{NS['bpmn']}}}subProcess"):
        plane = planes.get(sub.get("id"))
        assert plane is not None, f"{sub.get('id')} has no plane"
        drawn = {s.get("bpmnElement") for s in plane}
        children = {c.get("id") for c in sub if c.get("id") and not c.tag.endswith("multiInstanceLoopCharacteristics")}
        assert children <= drawn, f"{sub.get('id')}: {sorted(children - drawn)} not in its plane"

"""Whatever a document needs is asked where the person types it (issue 9 §2).

For every service task of the diagrams that renders a document (operator ``render_document``), each key of the
form's contract (``engine.documents.render.CONTRACT``, the keys ``engine.documents.context.build`` fills) is
accounted for in the table below: filled by the system, defaulted by the context builder when blank, or typed into
a user task that runs before the rendering — and then that task's form makes the field required (under the
condition the table names, when the document is only drawn then). Before, ``prepare_consultation`` could be
completed without ``notice_date`` and the case stopped on an incident at ``render_form4``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.documents.context import PROVIDES
from engine.documents.render import CONTRACT, FIELDS
from engine.forms.validation import validate_form

ROOT = Path(__file__).resolve().parents[2]
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


@dataclass(frozen=True)
class Typed:
    """Typed into ``task``'s form as ``field``; required there (given the data ``when``, for a conditional one)."""

    task: str
    field: str
    when: dict[str, Any] | None = None


@dataclass(frozen=True)
class System:
    why: str


@dataclass(frozen=True)
class Default:
    why: str


@dataclass(frozen=True)
class Either:
    """Depending on the path, one of these (each one required where it is typed)."""

    options: tuple[Typed, ...] = field(default_factory=tuple)


Source = Typed | System | Default | Either

NUMBER = System("the case number, given when the claim start is approved (give_case_number)")
CLAIMANT = System("the department's registered particulars (departments table)")
OBLIGORS = Typed("register_claim_start", "obligors")  # the case's obligor rows; an approval without one is refused by the diagram's guard
GROUP_OBLIGORS = System("the obligor group's members (split_obligor_groups), from the case's obligor rows")
LEAD_SOURCE = System("the lead's source, required by register_lead (cases.lead_source)")
JUDICIAL = {"apply_judicial_confirmation": True}

NEEDS: dict[int, dict[str, Source]] = {
    1: {
        "number": NUMBER, "claimant": CLAIMANT, "obligors": OBLIGORS, "lead_source_label": LEAD_SOURCE,
        "cause": Typed("register_claim_start", "cause"),
        "case_summary": Typed("register_claim_start", "case_summary"),
        "officer_name": System("who completed register_claim_start"),
        "registered_on": System("when register_claim_start was completed"),
        "division": Typed("approve_claim_start_division", "opinion"),
        "department": Typed("approve_claim_start_department", "opinion"),
        "remarks": Default('"" when none'),
    },
    2: {
        "number": NUMBER, "claimant": CLAIMANT, "obligors": OBLIGORS, "lead_source_label": LEAD_SOURCE,
        "claim_started_on": System("the signing date of the department head's approval"),
        "approving_authority": System("the claimant's name"),
        "investigators": Typed("conduct_investigation", "investigators"),
        "investigation_methods": Typed("conduct_investigation", "investigation_methods"),
        "investigation_started_on": Typed("conduct_investigation", "investigation_started_on"),
        "investigation_ended_on": Default("investigation_ended_on, else concluded_on, else the conclusion's date"),
        "investigation_scope": Typed("conduct_investigation", "investigation_scope"),
        "damage_facts": Typed("conduct_investigation", "damage_facts"),
        "assessment_summary": Default("record_assessment_result's, else 未开展鉴定评估。"),
        "evidence": Default("the evidence listed, else 无"),
        "legal_basis": Typed("conclude_investigation", "legal_basis"),
        "handling_suggestion": Typed("conclude_investigation", "handling_suggestion"),
        "officer_name": System("who completed conduct_investigation"),
        "concluded_on": Default("concluded_on, else when conduct_investigation was completed"),
    },
    3: {
        "number": NUMBER, "claimant": CLAIMANT, "obligors": OBLIGORS, "lead_source_label": LEAD_SOURCE,
        "cause": Typed("register_claim_start", "cause"),
        "termination_reason": Typed("register_claim_termination", "termination_reason"),
        "officer_name": System("who completed register_claim_termination"),
        "registered_on": System("when register_claim_termination was completed"),
        "division": Typed("approve_termination_division", "opinion"),
        "department": Typed("approve_termination_department", "opinion"),
        "remarks": Default('"" when none'),
    },
    4: {
        "number": NUMBER, "claimant": CLAIMANT, "obligors": GROUP_OBLIGORS,
        "cause": Typed("prepare_consultation", "cause"),
        "investigation_summary": Typed("prepare_consultation", "investigation_summary"),
        "assessment_summary": Default("record_assessment_result's, else 未开展鉴定评估。"),
        "restorable_area_requirements": Default("record_assessment_result's area and requirements, else 无"),
        "team_claimant": Typed("prepare_consultation", "team_claimant"),
        "invited_units": Default("无 when none"),
        "meeting_time": Typed("prepare_consultation", "meeting_time"),
        "meeting_place": Typed("prepare_consultation", "meeting_place"),
        "other_matters": Default('"" when none'),
        "reply_due_on": Typed("prepare_consultation", "reply_due_date"),
        "notice_date": Typed("prepare_consultation", "notice_date"),
    },
    5: {
        "number": NUMBER, "claimant": CLAIMANT, "obligors": GROUP_OBLIGORS,
        "signed_on": Typed("draft_agreement", "planned_signing_on"),  # rendered before sign_agreement
        "signing_place": Typed("draft_agreement", "signing_place"),
        "facts": Typed("draft_agreement", "facts"),
        "evidence_summary": Typed("draft_agreement", "evidence_summary"),
        "legal_basis": Typed("draft_agreement", "legal_basis"),
        "liability": Typed("draft_agreement", "liability"),
        "obligations": Default("the obligations listed (each with its required kind and description), else none"),
        "compensation_amount": Typed("draft_agreement", "compensation_amount"),
        "cost_bearing": Typed("draft_agreement", "cost_bearing"),
        "other_terms": Default("无 when none"),
    },
    6: {
        "number": NUMBER, "claimant": CLAIMANT, "obligors": GROUP_OBLIGORS,
        "agreement_signed_on": Typed("sign_agreement", "signed_on"),
        "agreement_name": Typed("draft_agreement", "agreement_name"),
        "agreement_summary": Typed("draft_agreement", "liability"),
        "local_rules": Typed("sign_agreement", "local_rules", JUDICIAL),
        "court": Typed("sign_agreement", "confirmation_court", JUDICIAL),
        "applied_on": Typed("sign_agreement", "confirmation_applied_on", JUDICIAL),
    },
    7: {
        "number": NUMBER, "obligors": GROUP_OBLIGORS,
        "claimant": Typed("apply_enforcement", "agent_name"),  # and the department's particulars
        "case_name": System("the case's title, required by register_lead"),
        "investigation_started_on": Typed("conduct_investigation", "investigation_started_on"),
        "facts_found": Typed("apply_enforcement", "facts_found"),
        "notice_served_on": Typed("record_notice_service", "served_on"),
        "meetings_from": Default("the first meeting's date, else the notice's served_on"),
        "meetings_to": Default("the last meeting's date, else the notice's served_on"),
        "meeting_count": System("the number of meetings recorded"),
        "agreement_name": Either((Typed("draft_agreement", "agreement_name"),
                                  Typed("record_judgment", "judgment_number"))),
        "confirmation_applied_on": Either((Typed("sign_agreement", "confirmation_applied_on", JUDICIAL),
                                           Typed("file_lawsuit", "filed_on"))),
        "court": Typed("apply_enforcement", "enforcement_court"),
        "confirmation_number": Either((Typed("record_judicial_confirmation", "confirmation_number"),
                                       Typed("record_judgment", "judgment_number"))),
        "defaulting_obligors": Typed("apply_enforcement", "defaulting_obligors"),
        "applied_on": Typed("apply_enforcement", "applied_on"),
    },
}
#: the claimant's agent on form 7 is typed too
NESTED: dict[int, list[Typed]] = {7: [Typed("apply_enforcement", "agent_unit_position")]}


# --- the diagrams ------------------------------------------------------------------------------------------


class Diagrams:
    """Flow nodes of every diagram, what precedes each, which container holds it, and the user tasks' forms."""

    def __init__(self) -> None:
        self.preds: dict[str, set[str]] = defaultdict(set)
        self.parent: dict[str, str] = {}
        self.kind: dict[str, str] = {}
        self.children: dict[str, set[str]] = defaultdict(set)
        self.calls: dict[str, str] = {}
        self.callers: dict[str, set[str]] = defaultdict(set)
        self.form: dict[str, str] = {}
        self.renders: dict[str, int] = {}
        for path in sorted((ROOT / "bpmn").glob("*.bpmn")):
            for process in ET.parse(path).getroot().iter(f"{BPMN}process"):
                self.kind[f"process:{process.get('id')}"] = "process"  # a call activity may bear the same id
                self._read(process, f"process:{process.get('id')}")

    def _read(self, container: ET.Element, container_id: str) -> None:
        for child in container:
            tag = child.tag.removeprefix(BPMN)
            node = child.get("id")
            if tag == "sequenceFlow":
                self.preds[child.get("targetRef", "")].add(child.get("sourceRef", ""))
                continue
            if node is None or not child.tag.startswith(BPMN) or tag in ("extensionElements", "incoming", "outgoing"):
                continue
            assert node not in self.parent, f"{node} appears twice in the diagrams"
            self.parent[node], self.kind[node] = container_id, tag
            self.children[container_id].add(node)
            if tag == "boundaryEvent":
                self.preds[node].add(child.get("attachedToRef", ""))
            elif tag == "callActivity":
                self.calls[node] = f"process:{child.get('calledElement')}"
                self.callers[self.calls[node]].add(node)
            elif tag == "subProcess":
                self._read(child, node)
            elif tag == "userTask":
                prop = child.find(f".//{SPIFF}property[@name='form']")
                self.form[node] = prop.get("value", "") if prop is not None else ""
            elif tag == "serviceTask":
                operator = child.find(f".//{SPIFF}serviceTaskOperator")
                if operator is not None and operator.get("id") == "render_document":
                    param = operator.find(f".//{SPIFF}parameter[@id='form']")
                    assert param is not None, node
                    self.renders[node] = int(param.get("value", ""))

    def inside(self, container: str) -> set[str]:
        """The user tasks a container runs (its own, its sub-processes', the processes it calls)."""
        found: set[str] = set()
        for node in self.children.get(container, ()):
            if self.kind[node] == "userTask":
                found.add(node)
            elif self.kind[node] == "subProcess":
                found |= self.inside(node)
            elif self.kind[node] == "callActivity":
                found |= self.inside(self.calls[node])
        return found

    def upstream(self, node: str) -> set[str]:
        """The user tasks that can have been completed when ``node`` runs."""
        found: set[str] = set()
        seen = {node}
        stack = [node]
        while stack:
            here = stack.pop()
            before = set(self.preds.get(here, ()))
            if self.kind.get(here) == "startEvent":
                container = self.parent[here]
                before |= {container} if self.kind[container] == "subProcess" else self.callers[container]
            for prev in before - seen:
                seen.add(prev)
                if self.kind.get(prev) == "userTask":
                    found.add(prev)
                elif self.kind.get(prev) == "subProcess" and prev not in self._ancestors(node):
                    found |= self.inside(prev)
                elif self.kind.get(prev) == "callActivity" and not self._calls_into(prev, node):
                    found |= self.inside(self.calls[prev])
                stack.append(prev)
        return found

    def _ancestors(self, node: str) -> set[str]:
        out: set[str] = set()
        while node in self.parent:
            node = self.parent[node]
            out.add(node)
            out |= {a for caller in self.callers.get(node, ()) for a in {caller} | self._ancestors(caller)}
        return out

    def _calls_into(self, call: str, node: str) -> bool:
        return call in self._ancestors(node)


DIAGRAMS = Diagrams()


def form_schema(task: str) -> dict[str, Any]:
    form: dict[str, Any] = json.loads((ROOT / "bpmn" / "forms" / f"{DIAGRAMS.form[task]}.json").read_text("utf-8"))
    return form


def typed(source: Source) -> list[Typed]:
    if isinstance(source, Typed):
        return [source]
    return list(source.options) if isinstance(source, Either) else []


# --- the tests ---------------------------------------------------------------------------------------------


def test_every_rendering_has_a_table() -> None:
    assert sorted(DIAGRAMS.renders.values()) == sorted(NEEDS), DIAGRAMS.renders


@pytest.mark.parametrize("form", sorted(NEEDS))
def test_the_table_accounts_for_every_key_of_the_contract(form: int) -> None:
    assert set(NEEDS[form]) == CONTRACT[form]
    assert CONTRACT[form] <= PROVIDES[form]


RENDER_CASES = [(render, form, key, t) for render, form in sorted(DIAGRAMS.renders.items())
                for key, source in sorted(NEEDS[form].items()) for t in typed(source)] + \
               [(render, form, f"claimant.{t.field}", t) for render, form in sorted(DIAGRAMS.renders.items())
                for t in NESTED.get(form, [])]


@pytest.mark.parametrize(("render", "form", "key", "source"), RENDER_CASES,
                         ids=[f"{r}:{k}<-{t.task}.{t.field}" for r, _f, k, t in RENDER_CASES])
def test_what_a_document_needs_is_required_where_it_is_typed(render: str, form: int, key: str, source: Typed) -> None:
    assert source.task in DIAGRAMS.upstream(render), f"{source.task} does not run before {render}"
    schema = form_schema(source.task)
    assert source.field in schema["properties"], f"{DIAGRAMS.form[source.task]} has no field {source.field}"
    problems = validate_form(schema, dict(source.when or {}))
    assert problems.get(source.field, "").endswith(("为必填项", "时）")), \
        f"《{form}》 needs {key}, but {DIAGRAMS.form[source.task]}.{source.field} is not required: {problems}"
    kind = FIELDS[key][0] if key in FIELDS else None
    prop = schema["properties"][source.field]
    if kind == "date":
        assert prop.get("format") == "date", f"{key} is a date, {source.task}.{source.field} is not"
    if kind == "decimal":
        assert prop.get("format") == "money", f"{key} is an amount, {source.task}.{source.field} is not"


def test_the_upstream_walk_knows_the_order_of_the_tasks() -> None:
    """The checker itself: tasks after a rendering or on another branch are not upstream of it."""
    form4 = DIAGRAMS.upstream("render_form4")
    assert {"prepare_consultation", "conduct_investigation", "register_claim_start", "record_assessment_result"} <= form4
    assert not {"record_notice_service", "draft_agreement", "close_case"} & form4
    form1 = DIAGRAMS.upstream("render_form1")
    assert "conduct_investigation" not in form1 and "register_claim_termination" not in form1
    assert "sign_agreement" not in DIAGRAMS.upstream("render_form5")
    assert {"sign_agreement", "record_judgment", "record_notice_service"} <= DIAGRAMS.upstream("render_form7")

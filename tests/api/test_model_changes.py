"""A diagram change through the API: validate (every problem named), replay against past cases, deploy, diff."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_replay import insert_task_after

from .conftest import new_case

ROOT = Path(__file__).resolve().parents[2]


def test_validate_replay_deploy_and_diff(runtime, as_user):
    officer, analyst = as_user("officer1"), as_user("analyst1")
    new_case(officer)
    original = (ROOT / "bpmn" / "eco_damage_claim.bpmn").read_text(encoding="utf-8")
    changed = insert_task_after(original, "screen_lead", "review_screening", "复核线索核查")
    files = {"eco_damage_claim": changed}
    assert officer.post("/api/v1/process-models/changes/validate", json={"files": files}).status_code == 403
    broken = {"eco_damage_claim": changed.replace('id="close_case"', 'id="closing_renamed"')
              .replace('calledElement="consultation"', 'calledElement="ghost"')}
    refused = analyst.post("/api/v1/process-models/changes/validate", json={"files": broken})
    assert refused.status_code == 422
    assert len(refused.json["error"]["fields"]) >= 2  # every problem, each under "process.element"
    assert analyst.post("/api/v1/process-models/changes/validate", json={"files": files}).json == {"problems": []}
    assert analyst.post("/api/v1/process-models/changes/deploy", json={"files": files}).status_code == 409  # replay first
    report = analyst.post("/api/v1/process-models/changes/replay", json={"files": files})
    assert report.status_code == 200 and report.json["summary"]["cases"] >= 1
    deployed = analyst.post("/api/v1/process-models/changes/deploy", json={"files": files, "replay_id": report.json["replay_id"]})
    assert deployed.status_code == 201
    version = next(v["version"] for v in deployed.json["versions"] if v["id"] == "eco_damage_claim")
    diff = analyst.get(f"/api/v1/process-models/eco_damage_claim/diff?from={version - 1}&to={version}")
    assert diff.status_code == 200
    assert "review_screening" in [e["id"] for e in diff.json["added"]]
    assert analyst.get("/api/v1/process-models/eco_damage_claim/diff").status_code == 400

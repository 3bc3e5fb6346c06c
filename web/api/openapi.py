"""The OpenAPI 3.1 description of ``/api/v1`` (served at ``/api/v1/openapi.json``); tests check replies against it."""

from __future__ import annotations

from typing import Any

from flask import Response

from engine.common.contract import CASE_STATUSES, MESSAGES
from engine.services.lead_form import lead_schema
from engine.services.messages import payload_schemas
from engine.store.runtime import Config

from . import api
from .common import reply

J = "application/json"
STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
BOOL: dict[str, Any] = {"type": "boolean"}
OBJ: dict[str, Any] = {"type": "object"}
DATE: dict[str, Any] = {"type": "string", "format": "date"}
TIME: dict[str, Any] = {"type": "string", "format": "date-time"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


ERROR_TEXT = {
    400: "请求格式不正确（JSON、内容类型、查询参数）", 401: "未登录或凭证无效、已过期", 403: "当前用户无权执行",
    404: "资源不存在或对当前用户不可见", 409: "冲突：任务已办结、已被他人签收或数据已被修改", 413: "请求内容过大",
    422: "数据未通过校验（fields 逐项说明）",
    429: "登录失败次数过多（同一用户名与地址，或同一地址），请在 Retry-After 秒后再试", 503: "PDF 无法在本服务器生成（未安装 LibreOffice 或转换失败）"}


def responses(ok: int, schema: dict[str, Any] | None, *errors: int, media: str = J,
              description: str = "成功") -> dict[str, Any]:
    out: dict[str, Any] = {str(ok): {"description": description}}
    if schema is not None:
        out[str(ok)]["content"] = {media: {"schema": schema}}
    for code in errors:
        out[str(code)] = {"description": ERROR_TEXT[code], "content": {J: {"schema": ref("Error")}}}
    return out


def json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {J: {"schema": schema}}}


def path_id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


TASK_ID = {"name": "task_id", "in": "path", "required": True, "description": "待办任务 id（UUID）",
           "schema": {"type": "string", "format": "uuid"}}
CASE_ID = path_id("case_id", "案件 id")

def _without_extensions(form: dict[str, Any]) -> dict[str, Any]:
    """A form of ``bpmn/forms`` as an OpenAPI schema: the same JSON Schema, without the extensions."""
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if not k.startswith(("x-", "$"))}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    result: dict[str, Any] = strip(form)
    return result


FILES = {"type": "object", "minProperties": 1, "maxProperties": 20, "propertyNames": {"pattern": "^[a-z][a-z0-9_]{0,79}$"},
         "additionalProperties": STR, "description": "修改的流程：{流程 id: BPMN XML}；其余流程取最新部署版本"}

SCHEMAS: dict[str, Any] = {
    "Error": obj(["error"], error=obj(["code", "message", "fields"], code=STR, message=STR,
                                      fields={"type": "object", "additionalProperties": STR})),
    "User": obj(["username", "roles", "department"], username=STR, display_name=STR, roles=array(STR),
                department=nullable(STR)),
    "Token": obj(["token", "user"], token=STR, expires_at=TIME, user=ref("User")),
    "Credentials": {**obj(["username", "password"], username=STR, password=STR), "additionalProperties": False},
    "TaskItem": obj(["id", "case_id", "case_number", "task", "title", "assignee", "candidate_role", "department",
                     "created_at", "due_at", "overdue"],
                    id=STR, case_id=nullable(INT), case_number=nullable(STR), task=STR, title=STR,
                    assignee=nullable(STR), candidate_role=STR, department=nullable(STR), group=nullable(INT),
                    stage=STR, state={"enum": ["open", "completed", "cancelled"]}, created_at=TIME,
                    due_at=nullable(TIME), overdue=BOOL),
    "TaskDetail": {"allOf": [ref("TaskItem"), obj(["form", "data"], form=OBJ, data=OBJ, instructions=STR)]},
    "TaskList": obj(["items"], items=array(ref("TaskItem"))),
    "Completion": {**obj(["data"], data=OBJ), "description": "任务表单数据（字段见任务详情的 form）"},
    "CompletionResult": obj(["case"], case=nullable(ref("Case")),
                            incident=nullable(obj(["id", "element", "message"], id=INT, element=STR, message=STR))),
    "Obligor": obj(["name", "kind", "group"], id=INT, name=STR, kind=STR, uscc=nullable(STR),
                   id_number=nullable(STR), address=STR, legal_representative=STR, position=STR, work_unit=STR,
                   contact=STR, group=INT, released=BOOL),
    "Deadline": obj(["name", "due_on", "basis", "paused_days", "overdue"], name=STR, label=STR, due_on=DATE,
                    expires_at=TIME, basis=STR, paused_days=INT, state=STR, provisional=BOOL,
                    group=nullable(INT), overdue=BOOL),
    "DocumentItem": obj(["id", "form", "title", "version", "created_at", "created_by", "task"],
                        id=INT, form={**INT, "minimum": 1, "maximum": 7}, title=STR, version=INT,
                        group=nullable(INT), filename=STR, created_at=TIME, created_by=STR, task=STR),
    "HistoryItem": obj(["at", "who", "event", "task", "title", "detail"], at=TIME, who=STR, event=STR,
                       task=nullable(STR), title=STR, detail=OBJ),
    "Group": obj(["id", "obligors", "stage", "outcome", "failure_reason", "obligations"], id=INT,
                 obligors=array(STR), stage=STR, outcome=nullable(STR), failure_reason=nullable(STR),
                 obligations=array(OBJ)),
    "Case": obj(["id", "number", "title", "stage", "status", "department", "obligors", "tasks", "deadlines",
                 "documents", "history", "variables"],
                id=INT, number=nullable(STR), title=STR, stage=STR,
                status={"enum": list(CASE_STATUSES)}, department=STR,
                lead_source=STR, description=STR, location=STR, found_on=DATE, overdue=BOOL,
                has_incident=BOOL, participants=array(STR), obligors=array(ref("Obligor")), groups=array(ref("Group")),
                tasks=array(ref("TaskItem")), deadlines=array(ref("Deadline")),
                documents=array(ref("DocumentItem")), history=array(ref("HistoryItem")), variables=OBJ),
    "Lead": _without_extensions(lead_schema(Config("").bpmn_dir)),
    "LedgerItem": obj(["id", "number", "title", "stage", "status", "department", "overdue", "has_incident"], id=INT,
                      number=nullable(STR), title=STR, stage=STR, status=STR, department=STR, overdue=BOOL,
                      has_incident=BOOL, department_name=STR, location=STR, next_due_on=nullable(DATE),
                      days_left=nullable(INT), obligors=array(STR), lead_source=STR, found_on=DATE, created_at=TIME),
    "Ledger": obj(["items", "total"], items=array(ref("LedgerItem")), total=INT, page=INT, per_page=INT, sort=STR),
    "ModelChange": {"type": "object", "required": ["files"], "properties": {"files": FILES}},
    "ModelReplayRequest": {"type": "object", "required": ["files"], "properties": {
        "files": FILES, "departments": {**array(STR), "description": "回放哪些部门的案件；缺省为全部"}}},
    "ModelDeployRequest": {"type": "object", "required": ["files"], "properties": {
        "files": FILES, "replay_id": {**INT, "description": "引用的回放记录；缺省为这些文件最近一次回放"}}},
    "ModelProblems": obj(["problems"], problems={"type": "array", "maxItems": 0}),
    "ReplayDivergence": obj(["kind", "element", "message", "step", "event", "at", "process", "group", "offered"],
                            kind={"enum": ["not_offered", "form_refuses", "guard_refuses", "incident", "message_not_awaited",
                                           "timer_missing", "timer_moved", "new_task", "task_missing", "different_end"]},
                            element=STR, message=STR, step=nullable(INT), event=STR, at=nullable(TIME), process=STR,
                            group=nullable(INT), offered=array(STR)),
    "ReplayCase": obj(["case_id", "title", "number", "status", "identical", "steps", "replayed", "divergences"],
                      case_id=INT, title=STR, number=nullable(STR), status=STR, identical=BOOL, steps=INT, replayed=INT,
                      divergences=array(ref("ReplayDivergence"))),
    "ReplayReport": obj(["replay_id", "checksums", "departments", "summary", "diverged", "identical"], replay_id=INT,
                        checksums={"type": "object", "additionalProperties": STR}, departments=array(STR),
                        summary=obj(["cases", "identical", "diverged", "by_kind", "by_element"], cases=INT, identical=INT,
                                    diverged=INT, by_kind={"type": "object", "additionalProperties": INT},
                                    by_element={"type": "object", "additionalProperties": INT}),
                        diverged=array(ref("ReplayCase")), identical=array(INT)),
    "ModelDeployed": obj(["versions", "replay_id", "replay"], replay_id=INT, replay=OBJ,
                         versions=array(obj(["id", "name", "version", "checksum", "created"], id=STR, name=STR,
                                            version=INT, checksum=STR, created=BOOL))),
    "DiffElement": obj(["id", "type", "type_label", "name"], id=STR, type=STR, type_label=STR, name=STR),
    "DiffChange": obj(["field", "label", "before", "after"], field=STR, label=STR, before=nullable(STR),
                      after=nullable(STR)),
    "VersionDiff": obj(["process_id", "from", "to", "added", "removed", "changed", "process_changes", "identical",
                        "layout_only"], process_id=STR,
                       **{"from": obj(["version"], version=INT, deployed_at=TIME, deployed_by=STR, checksum=STR),
                          "to": obj(["version"], version=INT, deployed_at=TIME, deployed_by=STR, checksum=STR)},
                       added=array(ref("DiffElement")), removed=array(ref("DiffElement")),
                       changed=array({"allOf": [ref("DiffElement"), obj(["changes"], changes=array(ref("DiffChange")))]}),
                       process_changes=array(ref("DiffChange")), identical=BOOL, layout_only=BOOL),
    "MigrationRequest": {"type": "object", "required": ["cases"], "properties": {
        "cases": {"type": "array", "items": {**INT, "minimum": 1}, "minItems": 1, "maxItems": 200}}},
    "MigrationCase": obj(["case_id", "instances"], case_id=INT, number=nullable(STR), title=STR, reasons=array(STR),
                         instances=array(obj(["instance_id", "process", "from", "to", "ahead"], instance_id=INT,
                                             process=STR, ahead=array(STR), incident=OBJ,
                                             **{"from": {"type": "object", "additionalProperties": INT},
                                                "to": {"type": "object", "additionalProperties": INT}}))),
    "MigrationPreview": obj(["movable", "refused"], movable=array(ref("MigrationCase")), refused=array(ref("MigrationCase"))),
    "MigrationResult": obj(["moved", "refused"], moved=array(ref("MigrationCase")), refused=array(ref("MigrationCase"))),
    "IncidentFix": {**obj(["data", "reason"], data={**OBJ, "minProperties": 1, "description": "流程变量 → 更正后的值"},
                          reason={**STR, "minLength": 1}), "additionalProperties": False},
    "IncidentFixResult": obj(["incident", "before", "after"], incident=ref("Incident"), before=OBJ, after=OBJ),
    "IncidentReturn": {**obj(["reason"], reason={**STR, "minLength": 1},
                             task={**STR, "description": "退回到的用户任务（如 prepare_consultation）；默认出错环节之前的任务"}),
                       "additionalProperties": False},
    "IncidentReturnResult": obj(["incident", "task", "element"], incident=ref("Incident"), task=STR, element=STR),
    "ProcessVersion": obj(["version", "deployed_at", "deployed_by", "checksum", "cases"], version=INT,
                          deployed_at=TIME, deployed_by=STR, checksum=STR, cases=INT),
    "ProcessModels": obj(["items"], items=array(obj(["id", "name", "versions"], id=STR, name=STR,
                                                    versions=array(ref("ProcessVersion"))))),
    "ProcessVersionDetail": {"allOf": [ref("ProcessVersion"), obj(["id", "name", "xml"], id=STR, name=STR,
                                                                  called=array(STR), xml=STR)]},
    "Deployed": {"allOf": [ref("ProcessVersion"), obj(["id", "name", "created"], id=STR, name=STR, created=BOOL)]},
    "Diagram": obj(["xml", "active", "completed", "called"], process_id=STR, version=nullable(INT), xml=STR,
                   called={"type": "object", "additionalProperties": STR}, active=array(STR),
                   completed=array(STR)),
    "Clock": obj(["now", "simulated"], now=TIME, simulated=BOOL),
    "ClockMove": {"type": "object", "additionalProperties": False, "minProperties": 1, "maxProperties": 1,
                  "properties": {"advance": {**STR, "description": "ISO 8601 时长，如 P91D"},
                                 "set": {**TIME, "description": "带时区的目标时间"}}},
    "ClockMoved": obj(["now"], now=TIME),
    "Notification": obj(["id", "at", "kind", "case_id", "task_id", "text", "read"], id=INT, at=TIME, kind=STR,
                        case_id=nullable(INT), task_id=nullable(STR), text=STR, read=BOOL),
    "Notifications": obj(["items"], items=array(ref("Notification"))),
    "HolidayDay": obj(["date", "kind"], date=DATE, kind={"enum": ["holiday", "workday"]}, name=STR),
    "HolidayYear": obj(["year", "source", "days"], year=INT, source=STR, days=array(ref("HolidayDay"))),
    "HolidayInput": obj(["days"], year=INT, source=STR, days=array(OBJ)),
    "Incident": obj(["id", "instance_id", "case_id", "element", "message", "created_at", "resolved_at"],
                    id=INT, instance_id=INT, case_id=nullable(INT), element=STR, message=STR,
                    detail={**nullable(STR), "description": "技术原因（仅督办人员、管理员可见）"}, created_at=TIME,
                    resolved_at=nullable(TIME)),
    "Incidents": obj(["items"], items=array(ref("Incident"))),
    "RetryResult": obj(["resolved", "incident"], resolved=BOOL, incident=nullable(ref("Incident"))),
    "AuditEvent": obj(["id", "at", "who", "event", "title", "detail", "prev_hash", "hash"], id=INT, at=TIME,
                      who=STR, event=STR, case_id=nullable(INT), task=nullable(STR), title=STR, detail=OBJ,
                      prev_hash=STR, hash=STR,
                      mac={**nullable(STR), "description": "HMAC-SHA256（密钥不在数据库中）；启用前的记录为 null"}),
    "AuditTrail": obj(["case_id", "items"], case_id=INT, number=nullable(STR), items=array(ref("AuditEvent"))),
    "AuditPage": obj(["items", "next"], items=array(ref("AuditEvent")),
                     next={**nullable(INT), "description": "下一页的 after；最后一页为 null"}),
    "UserAccount": {"allOf": [ref("User"), obj(["display_name", "active"], active=BOOL)]},
    "UserAccounts": obj(["items"], items=array(ref("UserAccount"))),
    "UserInput": {"type": "object", "additionalProperties": False, "required": ["username"],
                  "description": "新建用户（须给出 roles）或修改给出的字段；修改密码或停用会注销该用户的全部令牌",
                  "properties": {
                      "username": {**STR, "minLength": 1, "maxLength": 80}, "display_name": {**STR, "maxLength": 100},
                      "roles": array({"enum": ["officer", "division_head", "department_head", "supervisor", "analyst",
                                               "admin"]}),
                      "department": nullable(STR),
                      "password": {**nullable({**STR, "minLength": 8, "maxLength": 1024}),
                                   "description": "null：清除密码（不能登录）"},
                      "active": BOOL}},
    "Health": obj(["db", "scheduler"], db=STR, scheduler=STR),
}

for _name, _payload in payload_schemas(Config("").bpmn_dir).items():
    SCHEMAS["Message_" + _name] = {k: v for k, v in _payload.items() if not k.startswith(("x-", "$"))}

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BINARY = {"type": "string", "contentMediaType": "application/octet-stream"}

def _with_retry_after(out: dict[str, Any]) -> dict[str, Any]:
    out["429"]["headers"] = {"Retry-After": {"description": "多少秒后可以再试", "schema": {**INT, "minimum": 1}}}
    return out


PATHS: dict[str, Any] = {
    "/api/v1/auth/token": {
        "post": {"operationId": "issueToken", "summary": "用户名和密码换取访问令牌", "security": [],
                 "requestBody": json_body(ref("Credentials")),
                 "responses": _with_retry_after(responses(201, ref("Token"), 400, 401, 413, 422, 429))},
        "delete": {"operationId": "revokeToken", "summary": "注销当前令牌",
                   "responses": responses(204, None, 401)}},
    "/api/v1/cases": {
        "post": {"operationId": "createCase", "summary": "登记线索（启动流程）", "requestBody": json_body(ref("Lead")),
                 "responses": responses(201, ref("Case"), 400, 401, 403, 413, 422)},
        "get": {"operationId": "listCases", "summary": "案件台账（分页）",
                "parameters": [query("stage", STR, "阶段"), query("status", STR, "状态"),
                               query("department", STR, "承办部门"), query("overdue", BOOL, "仅超期/未超期"),
                               query("q", STR, "名称、编号、地点或赔偿义务人包含"),
                               query("source", STR, "线索来源"), query("year", {**INT, "minimum": 2000, "maximum": 2100}, "登记年度"),
                               query("has_incident", BOOL, "有未处理的流程异常"),
                               query("sort", {"enum": ["new", "old", "number", "deadline"]}, "排序，默认 new"),
                               query("page", {**INT, "minimum": 1, "maximum": 100000}, "页码，从1开始"),
                               query("per_page", {**INT, "minimum": 1, "maximum": 200}, "每页条数")],
                "responses": responses(200, ref("Ledger"), 400, 401)}},
    "/api/v1/cases/{case_id}": {
        "get": {"operationId": "getCase", "summary": "案件详情", "parameters": [CASE_ID],
                "responses": responses(200, ref("Case"), 401, 404)}},
    "/api/v1/cases/{case_id}/messages/{name}": {
        "post": {"operationId": "deliverMessage", "summary": "投递外部消息（法院受理、告知、修复申请、修复完成）",
                 "parameters": [CASE_ID, {"name": "name", "in": "path", "required": True,
                                          "schema": {"enum": list(MESSAGES)}}],
                 "requestBody": json_body({"oneOf": [ref("Message_" + n) for n in MESSAGES]}),
                 "responses": responses(202, ref("Case"), 400, 401, 403, 404, 409, 413, 422)}},
    "/api/v1/cases/{case_id}/documents": {
        "get": {"operationId": "listCaseDocuments", "summary": "案件文书", "parameters": [CASE_ID],
                "responses": responses(200, array(ref("DocumentItem")), 401, 404)}},
    "/api/v1/cases/{case_id}/diagram": {
        "get": {"operationId": "getCaseDiagram", "summary": "案件流程图及当前/已完成环节", "parameters": [CASE_ID],
                "responses": responses(200, ref("Diagram"), 401, 404)}},
    "/api/v1/cases/{case_id}/audit": {
        "get": {"operationId": "getCaseAudit", "summary": "案件审计记录（JSON 或 CSV）",
                "parameters": [CASE_ID, query("format", {"enum": ["json", "csv"]}, "csv：导出")],
                "responses": {**responses(200, ref("AuditTrail"), 400, 401, 404),
                              "200": {"description": "审计记录", "content": {
                                  J: {"schema": ref("AuditTrail")}, "text/csv": {"schema": STR}}}}}},
    "/api/v1/audit": {
        "get": {"operationId": "exportAudit",
                "summary": "导出整条审计链（系统管理员、督办人员）：JSON 按页，CSV 一次导出全部",
                "parameters": [query("format", {"enum": ["json", "csv"]}, "默认 json"),
                               query("from", STR, "起始：日期（当日零点，北京时间）或带时区的时间，含"),
                               query("to", STR, "截止：日期（含当日）或带时区的时间，含"),
                               query("event", STR, "事件，多个以逗号分隔"),
                               query("case", {**INT, "minimum": 1}, "只看某案件"),
                               query("after", {**INT, "minimum": 0}, "从此序号之后开始（翻页：上一页的 next）"),
                               query("limit", {**INT, "minimum": 1, "maximum": 1000}, "每页条数（JSON），默认100")],
                "responses": {**responses(200, ref("AuditPage"), 400, 401, 403),
                              "200": {"description": "审计记录", "content": {
                                  J: {"schema": ref("AuditPage")}, "text/csv": {"schema": STR}}}}}},
    "/api/v1/admin/users": {
        "get": {"operationId": "listUsers", "summary": "用户列表（系统管理员）",
                "responses": responses(200, ref("UserAccounts"), 401, 403)},
        "post": {"operationId": "saveUser",
                 "summary": "新建或修改用户（系统管理员）：姓名、角色、部门、密码、启用/停用；修改密码或停用即注销其令牌",
                 "requestBody": json_body(ref("UserInput")),
                 "responses": {**responses(200, ref("UserAccount"), 400, 401, 403, 413, 422),
                               "201": {"description": "已新建", "content": {J: {"schema": ref("UserAccount")}}}}}},
    "/api/v1/tasks": {
        "get": {"operationId": "listTasks", "summary": "待办（mine：我签收的；group：本角色本部门未签收的；all：可见的全部）",
                "parameters": [query("scope", {"enum": ["mine", "group", "all"]}, "范围，默认 mine"),
                               query("case", {**INT, "minimum": 1}, "只看某案件")],
                "responses": responses(200, ref("TaskList"), 400, 401)}},
    "/api/v1/tasks/{task_id}": {
        "get": {"operationId": "getTask", "summary": "待办详情（表单 JSON Schema 与当前数据）", "parameters": [TASK_ID],
                "responses": responses(200, ref("TaskDetail"), 401, 404, 422)}},
    "/api/v1/tasks/{task_id}/claim": {
        "post": {"operationId": "claimTask", "summary": "签收", "parameters": [TASK_ID],
                 "responses": responses(200, ref("TaskItem"), 401, 403, 404, 409)}},
    "/api/v1/tasks/{task_id}/unclaim": {
        "post": {"operationId": "unclaimTask", "summary": "退回签收", "parameters": [TASK_ID],
                 "responses": responses(200, ref("TaskItem"), 401, 404, 409)}},
    "/api/v1/tasks/{task_id}/complete": {
        "post": {"operationId": "completeTask", "summary": "办结（校验表单数据并推进流程）", "parameters": [TASK_ID],
                 "requestBody": json_body(ref("Completion")),
                 "responses": responses(200, ref("CompletionResult"), 400, 401, 403, 404, 409, 413, 422)}},
    "/api/v1/documents/{document_id}": {
        "get": {"operationId": "downloadDocument", "summary": "下载文书（Content-Disposition 含中文文件名）",
                "parameters": [path_id("document_id", "文书 id"),
                               query("format", {"enum": ["docx", "pdf"]}, "默认 docx；pdf 需安装 PDF 转换服务")],
                "responses": {**responses(200, None, 400, 401, 404, 422, 503),
                              "200": {"description": "文书文件", "content": {
                                  DOCX: {"schema": BINARY}, "application/pdf": {"schema": BINARY}}}}}},
    "/api/v1/process-models": {
        "get": {"operationId": "listProcessModels", "summary": "流程模型及各版本（流程管理员）",
                "responses": responses(200, ref("ProcessModels"), 401, 403)},
        "post": {"operationId": "uploadProcessModel", "summary": "上传 .bpmn 并部署新版本（流程管理员）",
                 "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": obj(
                     ["file"], file={"type": "string", "contentMediaType": "application/xml"})}}},
                 "responses": {**responses(201, ref("Deployed"), 400, 401, 403, 413, 422),
                               "200": {"description": "内容未变，未部署新版本",
                                       "content": {J: {"schema": ref("Deployed")}}}}}},
    "/api/v1/process-models/{process_id}/versions/{version}": {
        "get": {"operationId": "getProcessModelVersion", "summary": "某一版本（含 XML）",
                "parameters": [{"name": "process_id", "in": "path", "required": True, "schema": STR},
                               path_id("version", "版本号")],
                "responses": responses(200, ref("ProcessVersionDetail"), 401, 403, 404)}},
    "/api/v1/admin/clock": {
        "get": {"operationId": "getClock", "summary": "服务时钟（演示/测试模式为模拟时钟）",
                "responses": responses(200, ref("Clock"), 401)},
        "post": {"operationId": "moveClock", "summary": "拨快模拟时钟并触发到期定时事件（仅演示/测试模式，系统管理员）",
                 "requestBody": json_body(ref("ClockMove")),
                 "responses": responses(200, ref("ClockMoved"), 400, 401, 403, 413, 422)}},
    "/api/v1/notifications": {
        "get": {"operationId": "listNotifications", "summary": "我的通知",
                "parameters": [query("unread", BOOL, "只看未读")],
                "responses": responses(200, ref("Notifications"), 400, 401)}},
    "/api/v1/notifications/{notification_id}/read": {
        "post": {"operationId": "readNotification", "summary": "标为已读",
                 "parameters": [path_id("notification_id", "通知 id")],
                 "responses": responses(200, ref("Notification"), 401, 404)}},
    "/api/v1/holidays": {
        "get": {"operationId": "getHolidays", "summary": "某年节假日与调休上班日（默认今年）",
                "parameters": [query("year", {**INT, "minimum": 1949, "maximum": 2199}, "年份")],
                "responses": responses(200, ref("HolidayYear"), 400, 401, 422)}},
    "/api/v1/holidays/{year}": {
        "put": {"operationId": "putHolidays", "summary": "替换某年节假日表（系统管理员）",
                "parameters": [path_id("year", "年份")], "requestBody": json_body(ref("HolidayInput")),
                "responses": responses(200, ref("HolidayYear"), 400, 401, 403, 413, 422)}},
    "/api/v1/incidents": {
        "get": {"operationId": "listIncidents", "summary": "未处理的流程异常（督办人员、管理员）",
                "parameters": [query("case", {**INT, "minimum": 1}, "只看某案件")],
                "responses": responses(200, ref("Incidents"), 400, 401, 403)}},
    "/api/v1/incidents/{incident_id}/retry": {
        "post": {"operationId": "retryIncident", "summary": "重试流程异常（督办人员、管理员）",
                 "parameters": [path_id("incident_id", "异常 id")],
                 "responses": responses(200, ref("RetryResult"), 401, 403, 404, 409)}},
    "/api/v1/incidents/{incident_id}/data": {
        "post": {"operationId": "correctIncidentData", "summary": "更正出错流程实例的流程数据（督办人员、管理员；记入审计，之后重试）",
                 "parameters": [path_id("incident_id", "异常 id")], "requestBody": json_body(ref("IncidentFix")),
                 "responses": responses(200, ref("IncidentFixResult"), 400, 401, 403, 404, 409, 413, 422)}},
    "/api/v1/incidents/{incident_id}/return": {
        "post": {"operationId": "returnIncidentToTask", "summary": "退回到出错输入所在的任务（督办人员、管理员；记入审计）",
                 "parameters": [path_id("incident_id", "异常 id")], "requestBody": json_body(ref("IncidentReturn")),
                 "responses": responses(200, ref("IncidentReturnResult"), 400, 401, 403, 404, 409, 413, 422)}},
    "/api/v1/process-models/changes/validate": {"post": {
        "operationId": "validateModelChange",
        "summary": "校验修改后的流程图：一次列出全部问题，fields 的键为“流程 id.元素 id”（流程管理员、系统管理员）",
        "requestBody": json_body(ref("ModelChange")), "responses": responses(200, ref("ModelProblems"), 400, 401, 403, 413, 422)}},
    "/api/v1/process-models/changes/replay": {"post": {
        "operationId": "replayModelChange", "summary": "用所选部门的历史案件（已结束和办理中）回放修改后的流程图，不改动任何案件",
        "requestBody": json_body(ref("ModelReplayRequest")),
        "responses": responses(200, ref("ReplayReport"), 400, 401, 403, 413, 422)}},
    "/api/v1/process-models/changes/deploy": {"post": {
        "operationId": "deployModelChange",
        "summary": "部署修改为新版本（须先回放这些文件；审计记录含回放摘要；办理中的案件保持原版本）",
        "requestBody": json_body(ref("ModelDeployRequest")),
        "responses": responses(201, ref("ModelDeployed"), 400, 401, 403, 409, 413, 422)}},
    "/api/v1/process-models/{process_id}/diff": {"get": {
        "operationId": "diffProcessModel", "summary": "两个版本之间的差异（新增、删除、修改的元素及其属性）",
        "parameters": [{"name": "process_id", "in": "path", "required": True, "schema": STR},
                       {**query("from", {**INT, "minimum": 1}, "原版本号"), "required": True},
                       {**query("to", {**INT, "minimum": 1}, "新版本号"), "required": True}],
        "responses": responses(200, ref("VersionDiff"), 400, 401, 403, 404)}},
    "/api/v1/process-models/migrations/preview": {"post": {
        "operationId": "previewMigration", "summary": "预览：所选办理中的案件哪些可迁移到最新版本，哪些不能及原因（不迁移）",
        "requestBody": json_body(ref("MigrationRequest")),
        "responses": responses(200, ref("MigrationPreview"), 400, 401, 403, 413, 422)}},
    "/api/v1/process-models/migrations": {"post": {
        "operationId": "migrateCases", "summary": "把可迁移的案件迁移到最新版本（每件一条审计记录；法定期限不变）",
        "requestBody": json_body(ref("MigrationRequest")),
        "responses": responses(200, ref("MigrationResult"), 400, 401, 403, 413, 422)}},
    "/api/v1/openapi.json": {
        "get": {"operationId": "openapi", "summary": "本文档", "security": [],
                "responses": responses(200, OBJ)}},
    "/healthz": {
        "get": {"operationId": "health", "summary": "健康检查", "security": [],
                "responses": {**responses(200, ref("Health")),
                              "503": {"description": "数据库不可用", "content": {J: {"schema": ref("Health")}}}}}},
}

# Any request can carry a malformed query (a NUL, an unknown parameter) or an oversized body.
for _path, _operations in PATHS.items():
    if _path.startswith("/api/v1/"):
        for _op in _operations.values():
            for _code in (400, 413):
                _op["responses"].setdefault(str(_code), responses(200, None, _code)[str(_code)])

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "生态环境损害赔偿索赔案件系统 API", "version": "1.0.0",
             "description": "错误统一为 {\"error\": {\"code\", \"message\", \"fields\"}}；时间为带时区的 ISO 8601，"
                            "日期为 YYYY-MM-DD，金额为两位小数的字符串。"},
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": SCHEMAS},
    "paths": PATHS,
}


@api.get("/openapi.json")
def openapi() -> tuple[Response, int]:
    return reply(DOCUMENT)

"""The sandbox for diagram code (tracker issue 9 §1): every attack a deployed diagram could carry is refused at
deploy time by ``check_specs``/``check_script`` and, run anyway, fails without a side effect; the scripts the
diagrams really hold still work, and so does every expression of ``bpmn/*.bpmn``."""

from __future__ import annotations

import ast
import copy
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.process import sandbox
from engine.process.sandbox import (
    ITERATION_LIMIT,
    RANGE_LIMIT,
    RestrictedEnvironment,
    RestrictedScriptEngine,
    SandboxError,
    SandboxTaskError,
    check_expression,
    check_script,
    check_specs,
)

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
MARKER = "SANDBOX_MARKER"


# --- small diagrams ------------------------------------------------------------------------------------------------

def bpmn(body: str, process_id: str = "p", extra: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{NS['bpmn']}" xmlns:spiffworkflow="{NS['spiffworkflow']}"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="http://example.org">
  {extra}
  <bpmn:process id="{process_id}" isExecutable="true">{body}</bpmn:process>
</bpmn:definitions>"""


def xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def chain(*elements: tuple[str, str]) -> str:
    """start → each (id, xml of an element without flows) → end, joined by sequence flows."""
    ids = ["start", *(i for i, _ in elements), "end"]
    flows = "".join(f'<bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}"/>'
                    for n, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    return '<bpmn:startEvent id="start"/>' + "".join(x for _, x in elements) + '<bpmn:endEvent id="end"/>' + flows


def script_task(task_id: str, script: str) -> tuple[str, str]:
    return task_id, f'<bpmn:scriptTask id="{task_id}"><bpmn:script>{xml_text(script)}</bpmn:script></bpmn:scriptTask>'


def prescript_task(task_id: str, script: str) -> tuple[str, str]:
    return task_id, (f'<bpmn:task id="{task_id}"><bpmn:extensionElements><spiffworkflow:preScript>{xml_text(script)}'
                     f'</spiffworkflow:preScript></bpmn:extensionElements></bpmn:task>')


def service_task(task_id: str, operator: str, **params: str) -> tuple[str, str]:
    ps = "".join(f'<spiffworkflow:parameter id="{k}" type="any" value="{xml_text(v)}"/>' for k, v in params.items())
    return task_id, (f'<bpmn:serviceTask id="{task_id}"><bpmn:extensionElements>'
                     f'<spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="result">'
                     f'<spiffworkflow:parameters>{ps}</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>'
                     f'</bpmn:extensionElements></bpmn:serviceTask>')


def gateway(condition: str) -> str:
    return f"""<bpmn:startEvent id="start"/>
    <bpmn:exclusiveGateway id="decide" default="f_other"/>
    <bpmn:scriptTask id="yes"><bpmn:script>branch = 'yes'</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="no"><bpmn:script>branch = 'no'</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="decide"/>
    <bpmn:sequenceFlow id="f_yes" sourceRef="decide" targetRef="yes">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{xml_text(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_other" sourceRef="decide" targetRef="no"/>
    <bpmn:sequenceFlow id="f1" sourceRef="yes" targetRef="end"/>
    <bpmn:sequenceFlow id="f2" sourceRef="no" targetRef="end"/>"""


def parse(*files: str, process_id: str = "p", require_calls: bool = True) -> tuple[Any, dict[str, Any]]:
    parser = SpiffBpmnParser()
    for n, text in enumerate(files):
        parser.add_bpmn_xml(etree.fromstring(text.encode("utf-8")), filename=f"f{n}.bpmn")
    return parser.get_spec(process_id), parser.get_subprocess_specs(
        process_id, require_call_activity_specs=require_calls)


class ServiceEngine(PythonScriptEngine):  # type: ignore[misc]
    """SpiffWorkflow's engine on the sandbox, recording the service calls it would make."""

    def __init__(self) -> None:
        super().__init__(environment=RestrictedEnvironment())
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call_service(self, task: Any, **kwargs: Any) -> str:
        self.calls.append((kwargs["operation_name"], {k: v["value"] for k, v in kwargs["operation_params"].items()}))
        return "null"


def run(text: str, data: dict[str, Any] | None = None, script_engine: Any = None) -> BpmnWorkflow:
    spec, subs = parse(text)
    wf = BpmnWorkflow(spec, subs, script_engine=script_engine or PythonScriptEngine(environment=RestrictedEnvironment()))
    if data:
        wf.get_tasks(state=TaskState.READY)[0].data.update(data)
    wf.do_engine_steps()
    return wf


def final_data(wf: BpmnWorkflow) -> dict[str, Any]:
    assert wf.is_completed()
    return dict(wf.data)


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path / MARKER


# --- the attacks: refused before deployment, and harmless if run anyway -------------------------------------------

ATTACK_SCRIPTS = {
    "import builtin": f"__import__('os').system('touch {MARKER}')",
    "import statement": f"import os\nos.system('touch {MARKER}')",
    "subclasses walk": "x = ().__class__.__bases__[0].__subclasses__()",
    "getattr dunder": "x = getattr(len, '__globals__')",
    "open a file": f"open('{MARKER}', 'w').write('x')",
    "eval": f"eval(\"__import__('os').system('touch {MARKER}')\")",
    "exec": "exec('x = 1')",
    "type trick": "x = type(len)",
    "vars/globals": "x = globals()",
    "endless loop": "while True:\n    pass",
    "format escape": "x = '{0.__class__}'.format(1)",
    "function def": "def f():\n    return f()\nf()",
    "lambda": "f = lambda: 1",
    "try swallows limits": "try:\n    x = 1\nexcept Exception:\n    pass",
    "frame walk": "g = (i for i in [1])\nx = g.gi_frame",
}


@pytest.mark.parametrize("script", ATTACK_SCRIPTS.values(), ids=ATTACK_SCRIPTS.keys())
def test_every_attack_is_refused_by_the_checker_in_chinese(script: str) -> None:
    message = check_script(script)
    assert message is not None and message.startswith(("不允许", "第"))
    assert "Traceback" not in message


def test_the_checker_names_what_is_refused() -> None:
    assert check_script("while True: pass") == "不允许使用 while 循环（请用 for 遍历列表或 range）"
    assert check_expression("__import__('os')") == "不允许访问以下划线开头的名称：__import__"
    assert check_expression("().__class__") == "不允许访问以下划线开头的属性：__class__"
    assert check_expression("open('/etc/passwd').read()") == "不允许调用：open"
    assert check_script("x = 1\nwhile x:\n    x = 0") == "第2行：不允许使用 while 循环（请用 for 遍历列表或 range）"
    assert (check_expression("a ==") or "").startswith("表达式有语法错误：第1行")
    assert (check_script("x = (") or "").startswith("脚本有语法错误：")
    assert check_expression("   ") == "表达式为空"


@pytest.mark.parametrize("script", ATTACK_SCRIPTS.values(), ids=ATTACK_SCRIPTS.keys())
def test_every_attack_run_anyway_in_a_script_task_fails_without_side_effect(script: str, marker: Path) -> None:
    with pytest.raises(WorkflowTaskException) as caught:
        run(bpmn(chain(script_task("attack", script))))
    assert isinstance(caught.value, SpiffWorkflowException)
    assert not marker.exists()


def test_a_gateway_condition_cannot_read_a_file() -> None:
    text = bpmn(gateway("open('/etc/passwd').read() != ''"))
    problems = check_specs(*parse(text), operators=set())
    assert problems == [("decide", "通往 yes 的条件：不允许调用：open")]
    with pytest.raises(WorkflowTaskException) as caught:
        run(text)
    assert "root:" not in str(caught.value)
    env = RestrictedEnvironment()  # the environment on its own, as engine/tasks.py evaluates a guard
    with pytest.raises(SandboxError) as direct:
        env.evaluate("open('/etc/passwd').read()", {})
    assert str(direct.value) == "不允许调用：open" and "root:" not in direct.value.detail


def test_a_prescript_attack_is_refused_and_does_nothing(marker: Path) -> None:
    text = bpmn(chain(prescript_task("prepared", f"__import__('os').system('touch {MARKER}')")))
    assert check_specs(*parse(text), operators=set()) == [
        ("prepared", "前置脚本：不允许访问以下划线开头的名称：__import__")]
    with pytest.raises(SpiffWorkflowException):
        run(text)
    assert not marker.exists()


def test_a_service_task_parameter_attack_is_refused_and_the_operator_is_never_called(marker: Path) -> None:
    text = bpmn(chain(service_task("svc", "notify", text=f"__import__('os').system('touch {MARKER}')")))
    assert check_specs(*parse(text), operators={"notify"}) == [
        ("svc", "服务任务参数 text：不允许访问以下划线开头的名称：__import__")]
    script_engine = ServiceEngine()
    with pytest.raises(WorkflowTaskException):
        run(text, script_engine=script_engine)
    assert script_engine.calls == [] and not marker.exists()


def test_a_good_service_task_evaluates_its_parameters_in_the_sandbox() -> None:
    text = bpmn(chain(service_task("svc", "notify", text="'已启动：' + title", n="len(items) + 1")))
    script_engine = ServiceEngine()
    run(text, {"title": "案件", "items": [1, 2]}, script_engine=script_engine)
    assert script_engine.calls == [("notify", {"text": "已启动：案件", "n": 3})]


RUNTIME_ONLY_ATTACKS = {
    # These compile (no underscore, no forbidden call): the runtime guards refuse them.
    "method not on the whitelist": "x = s.ljust(1000000000)",
    "str.format via a variable": "f = s.zfill",
    "class attribute": "x = date.today()",
    "write into a tuple": "t[0] = 1",
    "item of a non-container": "x = d.year",
    "int method": "x = n.bit_length()",
}


@pytest.mark.parametrize("script", RUNTIME_ONLY_ATTACKS.values(), ids=RUNTIME_ONLY_ATTACKS.keys())
def test_attribute_and_write_guards_hold_at_run_time(script: str) -> None:
    assert check_script(script) is None
    data = {"s": "abc", "t": (1, 2), "d": {"year": 1}, "n": 5}
    before = copy.deepcopy(data)
    with pytest.raises(SandboxError) as caught:
        RestrictedEnvironment().execute(script, data)
    assert caught.value.message.startswith("脚本第1行执行失败：")
    assert data == before


# --- bounded work ------------------------------------------------------------------------------------------------

BOMBS = {
    "huge range": ("for i in range(10**9):\n    pass", f"range 最多 {RANGE_LIMIT} 个数"),
    "nested loops": ("for i in range(10000):\n    for j in range(10000):\n        pass", "循环次数超过上限"),
    "comprehension": ("x = [i * j for i in range(10000) for j in range(10000)]", "循环次数超过上限"),
    "string repetition": ("x = 'a' * 10**9", "结果过大"),
    "repetition on the right": ("x = 10**9 * [0]", "结果过大"),
    "doubling by +": ("s = 'a' * 1000\nfor i in range(100):\n    s = s + s", "结果过大"),
    "doubling by +=": ("s = [0]\nfor i in range(100):\n    s += s", "结果过大"),
    "doubling by extend": ("s = [0]\nfor i in range(100):\n    s.extend(s)", "结果过大"),
    "huge power": ("x = 2 ** 10**9", "数值过大"),
    "power in a loop": ("x = 3\nfor i in range(100):\n    x = x ** 2", "数值过大"),
    "huge shift": ("x = 1 << 10**9", "数值过大"),
    "huge join": ("x = ('a' * 1000000).join(['b', 'c', 'd'])", "结果过大"),
    "huge replace": ("s = 'a' * 100000\nx = s.replace('a', s)", "结果过大"),
    "format width": ("x = f'{1:>1000000000}'", "格式宽度或精度过大"),
    "format precision": ("x = f'{1.5:.{n}f}'", "格式宽度或精度过大"),
    "percent format": ("x = '%0999999999d' % 1", "不允许用 % 格式化字符串"),
    "round to huge digits": ("x = round(12345, -10**9)", "round 的位数不超过"),
    "huge decimal to int": ("x = int(Decimal('1e100000000'))", "小数的数量级过大"),
    "huge decimal formatted": ("x = f'{Decimal(\"1e100000000\"):f}'", "小数的数量级过大"),
    "quadratic sum": ("x = sum([[0] * 1000] * 1000, [])", "sum 只能对数字求和"),
    "many copies": ("big = [0] * 1000000\nkeep = [list(big) for i in range(100)]", "本次计算生成的数据过多"),
}


@pytest.mark.parametrize(("script", "reason"), BOMBS.values(), ids=BOMBS.keys())
def test_cpu_and_memory_bombs_are_stopped(script: str, reason: str) -> None:
    assert check_script(script) is None  # allowed code, bounded work
    with pytest.raises(SandboxError) as caught:
        RestrictedEnvironment().execute(script, {"n": 10**9})
    assert reason in caught.value.message


def test_the_iteration_budget_is_per_evaluation_and_allows_real_work() -> None:
    env = RestrictedEnvironment()
    data: dict[str, Any] = {}
    env.execute(f"total = 0\nfor i in range({RANGE_LIMIT}):\n    total += i", data)
    env.execute(f"again = sum(range({RANGE_LIMIT}))", data)  # a new evaluation has a new budget
    assert data["total"] == data["again"] == sum(range(RANGE_LIMIT))
    loops = ITERATION_LIMIT // RANGE_LIMIT
    with pytest.raises(SandboxError, match="循环次数超过上限"):
        env.execute(f"for k in range({loops + 1}):\n    for i in range({RANGE_LIMIT}):\n        pass", {})


def test_the_deadline_stops_a_long_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "TIME_LIMIT", -1.0)  # already past: the first loop step is over time
    with pytest.raises(SandboxError, match="计算超时"):
        RestrictedEnvironment().execute("for i in range(3):\n    x = i", {})
    assert RestrictedEnvironment().evaluate("1 == 1", {}) is True  # no loop, no guarded operation: no check


def test_an_endless_loop_in_a_workflow_is_refused_not_run() -> None:
    text = bpmn(chain(script_task("spin", "while True:\n    pass")))
    assert check_specs(*parse(text), operators=set()) == [
        ("spin", "脚本：第1行：不允许使用 while 循环（请用 for 遍历列表或 range）")]
    with pytest.raises(WorkflowTaskException):
        run(text)
    with pytest.raises(WorkflowTaskException):
        run(bpmn(chain(script_task("spin", "for i in range(10**9):\n    pass"))))


# --- what diagrams do keeps working ------------------------------------------------------------------------------

NORMAL_SCRIPT = """\
count = count + 1
count += 1
record = {'no': count, 'date': meeting_on, 'outcome': outcome}
meetings = meetings + [record]
history.append(record)
totals['meetings'] = len(meetings)
del totals['old']
first, *rest = [1, 2, 3]
due = start + timedelta(days=15)
overdue = due < date(2025, 1, 1)
at = datetime.fromisoformat('2025-03-01T08:00:00') + timedelta(hours=2)
amount = (Decimal('10.05') * 3).quantize(Decimal('0.01'))
labels = [m['outcome'] for m in meetings if m['no'] > 0]
by_no = {m['no']: m['outcome'] for m in meetings}
ok = all(m['outcome'] != 'failed' for m in meetings) and any(True for _ in meetings)
text = ', '.join(sorted(labels)).upper().strip()
line = f"{count:>3}|{amount:,.2f}|{due:%Y年%m月%d日}|{outcome!r}"
total = 0
for i, m in enumerate(meetings):
    total = total + m['no'] * i
pairs = list(zip(labels, range(len(labels))))
kept = [x for x in range(10) if x % 2 == 0][1:3]
name = reply.get('name', '未知')
biggest = max(abs(-3), min(4, 5), round(2.567, 2))
parts = '2025-03-01'.split('-')
year = int(parts[0]) + float('0.5') + due.year
flag = not bool(None) and str(1) == '1' and tuple([1]) == (1,) and set([1, 1]) == {1}
"""


def test_a_normal_script_works_in_a_real_workflow() -> None:
    data = {"count": 0, "meeting_on": "2025-02-01", "outcome": "continue", "meetings": [], "history": [],
            "totals": {"old": 1}, "start": date(2025, 1, 1), "reply": {}}
    result = final_data(run(bpmn(chain(script_task("work", NORMAL_SCRIPT))), data))
    assert result["count"] == 2
    assert result["meetings"] == [{"no": 2, "date": "2025-02-01", "outcome": "continue"}]
    assert result["history"] == result["meetings"] and result["totals"] == {"meetings": 1}
    assert (result["first"], result["rest"]) == (1, [2, 3])
    assert result["due"] == date(2025, 1, 16) and result["overdue"] is False
    assert result["at"] == datetime(2025, 3, 1, 10, 0)
    assert result["amount"] == Decimal("30.15")
    assert result["labels"] == ["continue"] and result["by_no"] == {2: "continue"} and result["ok"] is True
    assert result["text"] == "CONTINUE"
    assert result["line"] == "  2|30.15|2025年01月16日|'continue'"
    assert result["total"] == 0 and result["pairs"] == [("continue", 0)] and result["kept"] == [2, 4]
    assert result["name"] == "未知" and result["biggest"] == 4 and result["year"] == 4050.5 and result["flag"] is True


def test_script_variables_reach_task_data_like_spiffworkflow_does() -> None:
    env = RestrictedEnvironment()
    data: dict[str, Any] = {"keep": 1, "gone": 2}
    env.execute("new = keep + 1\ndel gone\nfn = len", data, {"shared": 5})
    assert data == {"keep": 1, "new": 2}  # no callables, no data objects, no sandbox names
    with pytest.raises(SandboxError, match="变量未定义"):
        env.execute("changed = 1\nboom = missing", data)
    assert data == {"keep": 1, "new": 2}  # a failed script rebinds nothing
    assert env.evaluate("keep + shared", data, {"shared": 5}) == 6
    with pytest.raises(SandboxError, match="重名"):
        env.execute("x = 1", {"shared": 1}, {"shared": 5})


def test_a_gateway_condition_on_task_data_routes_as_before() -> None:
    text = bpmn(gateway("meeting_outcome == 'continue' and meeting_count < max_meetings"))
    assert check_specs(*parse(text), operators=set()) == []
    assert final_data(run(text, {"meeting_outcome": "continue", "meeting_count": 1, "max_meetings": 3}))[
        "branch"] == "yes"
    assert final_data(run(text, {"meeting_outcome": "agreed", "meeting_count": 1, "max_meetings": 3}))[
        "branch"] == "no"


# --- errors: short Chinese, details kept aside -------------------------------------------------------------------

def test_runtime_errors_are_short_chinese_with_the_detail_kept() -> None:
    env = RestrictedEnvironment()
    with pytest.raises(SandboxError) as caught:
        env.evaluate("approval['approved'] == True", {"approval": {}})
    error = caught.value
    assert str(error) == "表达式计算失败：键不存在：'approved'"
    assert error.detail == "KeyError: 'approved'" and isinstance(error.original, KeyError)
    assert error.__cause__ is None  # describe() shows this message, not Python's
    with pytest.raises(SandboxError) as caught:
        env.execute("a = 1\nb = 2\nc = a / (b - 2)", {})
    assert str(caught.value) == "脚本第3行执行失败：除数为零" and caught.value.line == 3
    with pytest.raises(SandboxError) as caught:
        env.evaluate("undefined_name + 1", {})
    assert str(caught.value) == "表达式计算失败：变量未定义：undefined_name"


def test_the_restricted_engine_raises_a_task_error_whose_text_is_the_chinese_message() -> None:
    text = bpmn(chain(script_task("calc", "x = 1\ny = x['k']")))
    with pytest.raises(SandboxTaskError) as caught:
        run(text, script_engine=RestrictedScriptEngine())
    error = caught.value
    assert isinstance(error, WorkflowTaskException)
    assert str(error) == "脚本第2行执行失败：不支持对该类型取下标：int"
    assert error.task.task_spec.bpmn_id == "calc" and error.line_number == 2
    assert error.__cause__ is None and "exception" not in vars(error)
    with pytest.raises(SandboxTaskError) as caught:
        run(bpmn(gateway("open('/etc/passwd')")), script_engine=RestrictedScriptEngine())
    assert str(caught.value) == "不允许调用：open" and caught.value.task.task_spec.bpmn_id == "decide"


# --- deploy-time checking of a whole bundle ----------------------------------------------------------------------

KITCHEN_SINK = """
<bpmn:startEvent id="start"/>
<bpmn:scriptTask id="s_bad"><bpmn:script>while True:
    pass</bpmn:script></bpmn:scriptTask>
<bpmn:task id="t_pre"><bpmn:extensionElements>
  <spiffworkflow:preScript>import os</spiffworkflow:preScript>
  <spiffworkflow:postScript>x = ().__class__</spiffworkflow:postScript>
</bpmn:extensionElements></bpmn:task>
<bpmn:serviceTask id="svc"><bpmn:extensionElements>
  <spiffworkflow:serviceTaskOperator id="no_such_operator" resultVariable="r">
    <spiffworkflow:parameters>
      <spiffworkflow:parameter id="a" type="any" value="getattr(x, 'y')"/>
      <spiffworkflow:parameter id="b" type="any" value="'fine'"/>
    </spiffworkflow:parameters>
  </spiffworkflow:serviceTaskOperator>
</bpmn:extensionElements></bpmn:serviceTask>
<bpmn:userTask id="u_guard"><bpmn:extensionElements><spiffworkflow:properties>
  <spiffworkflow:property name="guard" value="__import__('os')"/>
  <spiffworkflow:property name="role" value="officer"/>
</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
<bpmn:task id="mi"><bpmn:multiInstanceLoopCharacteristics>
  <bpmn:loopCardinality>open('x')</bpmn:loopCardinality>
  <bpmn:completionCondition>done ==</bpmn:completionCondition>
</bpmn:multiInstanceLoopCharacteristics></bpmn:task>
<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>
  <bpmn:timeDuration>vars()</bpmn:timeDuration>
</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:intermediateThrowEvent id="send"><bpmn:messageEventDefinition messageRef="m">
  <bpmn:extensionElements><spiffworkflow:messagePayload>{'a': x.__dict__}</spiffworkflow:messagePayload>
  </bpmn:extensionElements>
</bpmn:messageEventDefinition></bpmn:intermediateThrowEvent>
<bpmn:callActivity id="call_missing" calledElement="not_deployed"/>
<bpmn:exclusiveGateway id="gw" default="f_default"/>
<bpmn:endEvent id="end"/>
<bpmn:endEvent id="end2"/>
<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="s_bad"/>
<bpmn:sequenceFlow id="f1" sourceRef="s_bad" targetRef="t_pre"/>
<bpmn:sequenceFlow id="f2" sourceRef="t_pre" targetRef="svc"/>
<bpmn:sequenceFlow id="f3" sourceRef="svc" targetRef="u_guard"/>
<bpmn:sequenceFlow id="f4" sourceRef="u_guard" targetRef="mi"/>
<bpmn:sequenceFlow id="f5" sourceRef="mi" targetRef="wait"/>
<bpmn:sequenceFlow id="f6" sourceRef="wait" targetRef="send"/>
<bpmn:sequenceFlow id="f7" sourceRef="send" targetRef="call_missing"/>
<bpmn:sequenceFlow id="f8" sourceRef="call_missing" targetRef="gw"/>
<bpmn:sequenceFlow id="f_cond" sourceRef="gw" targetRef="end"><bpmn:conditionExpression
  xsi:type="bpmn:tFormalExpression">[c for c in x if c.__len__()]</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f_default" sourceRef="gw" targetRef="end2"/>
"""


def test_check_specs_reports_every_problem_of_every_kind() -> None:
    text = bpmn(KITCHEN_SINK, extra='<bpmn:message id="m" name="m"/>')
    problems = check_specs(*parse(text, require_calls=False), operators={"notify"})
    assert problems == [
        ("s_bad", "脚本：第1行：不允许使用 while 循环（请用 for 遍历列表或 range）"),
        ("t_pre", "前置脚本：不允许导入模块（import）"),
        ("t_pre", "后置脚本：不允许访问以下划线开头的属性：__class__"),
        ("svc", "服务任务操作不存在：no_such_operator"),
        ("svc", "服务任务参数 a：不允许调用：getattr"),
        ("u_guard", "任务规则（guard）：不允许访问以下划线开头的名称：__import__"),
        ("mi", "多实例基数：不允许调用：open"),
        ("mi", "多实例完成条件：表达式有语法错误：第1行第1列（invalid syntax）"),
        ("wait", "定时器表达式：不允许调用：vars"),
        ("send", "消息内容表达式：不允许访问以下划线开头的属性：__dict__"),
        ("call_missing", "调用的流程不在本次部署中：not_deployed"),
        ("gw", "通往 end 的条件：不允许访问以下划线开头的属性：__len__"),
    ]


def test_check_specs_looks_into_called_processes() -> None:
    top = bpmn(chain(("call", '<bpmn:callActivity id="call" calledElement="sub"/>')), process_id="top")
    sub = bpmn(chain(script_task("inner", "x = 1\nwhile x:\n    x = 0")), process_id="sub")
    spec, subs = parse(top, sub, process_id="top")
    assert check_specs(spec, subs, operators=set()) == [("inner", "脚本：第2行：不允许使用 while 循环（请用 for 遍历列表或 range）")]


# --- the real diagrams -------------------------------------------------------------------------------------------

def diagram_code() -> list[tuple[str, str, str]]:
    """(where, 'eval' or 'exec', text) for every expression and script written in bpmn/*.bpmn."""
    found: list[tuple[str, str, str]] = []
    expression_tags = ("conditionExpression", "timeDate", "timeDuration", "timeCycle", "loopCardinality",
                       "completionCondition")
    for path in sorted(BPMN_DIR.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for tag in expression_tags:
            for node in root.iter(f"{{{NS['bpmn']}}}{tag}"):
                found.append((f"{path.stem}:{tag}", "eval", node.text or ""))
        for node in root.iter(f"{{{NS['bpmn']}}}script"):
            found.append((f"{path.stem}:script", "exec", node.text or ""))
        for tag in ("preScript", "postScript"):
            for node in root.iter(f"{{{NS['spiffworkflow']}}}{tag}"):
                found.append((f"{path.stem}:{tag}", "exec", node.text or ""))
        for tag in ("messagePayload", "expression"):
            for node in root.iter(f"{{{NS['spiffworkflow']}}}{tag}"):
                found.append((f"{path.stem}:{tag}", "eval", node.text or ""))
        for node in root.iter(f"{{{NS['spiffworkflow']}}}parameter"):
            found.append((f"{path.stem}:parameter {node.get('id')}", "eval", node.get("value") or ""))
        for node in root.iter(f"{{{NS['spiffworkflow']}}}property"):
            if node.get("name") == "guard":
                found.append((f"{path.stem}:guard", "eval", node.get("value") or ""))
    return found


DIAGRAM_CODE = diagram_code()


def test_the_diagrams_hold_code_of_every_kind_we_check() -> None:
    kinds = {where.split(":")[1].split(" ")[0] for where, _, _ in DIAGRAM_CODE}
    assert {"conditionExpression", "script", "parameter", "guard", "timeDate", "timeCycle"} <= kinds
    assert len(DIAGRAM_CODE) > 100


@pytest.mark.parametrize(("where", "mode", "text"), DIAGRAM_CODE, ids=[w for w, _, _ in DIAGRAM_CODE])
def test_every_expression_and_script_of_the_diagrams_passes_the_checker(where: str, mode: str, text: str) -> None:
    assert (check_expression(text) if mode == "eval" else check_script(text)) is None


def _samples(text: str, mode: str) -> list[dict[str, Any]]:
    """Task data for ``text``: its free names bound to values drawn from the constants it compares with."""
    tree = ast.parse(text.strip() if mode == "eval" else text, mode=mode)
    names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
                   - {"True", "False", "None", "len", "str", "int", "date", "timedelta", "Decimal"})
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    scalars: list[Any] = [None, True, False, 0, 1, 2, 3, 5, "x", "2025-03-01", *constants]
    rng = random.Random(text)
    samples = []
    for _ in range(40):
        def value() -> Any:
            kind = rng.random()
            if kind < 0.6:
                return rng.choice(scalars)
            if kind < 0.85:
                return {k: rng.choice(scalars) for k in constants}
            return [{k: rng.choice(scalars) for k in constants} for _ in range(rng.randint(0, 2))]
        samples.append({name: value() for name in names})
    return samples


def _outcome(env: Any, mode: str, text: str, data: dict[str, Any]) -> tuple[str, Any]:
    data = copy.deepcopy(data)
    try:
        if mode == "eval":
            return "value", env.evaluate(text.strip(), data)
        env.execute(text, data)
        return "data", data
    except Exception:
        return "error", None


@pytest.mark.parametrize(("where", "mode", "text"), DIAGRAM_CODE, ids=[w for w, _, _ in DIAGRAM_CODE])
def test_every_expression_and_script_of_the_diagrams_behaves_as_before(where: str, mode: str, text: str) -> None:
    """The same results as SpiffWorkflow's unrestricted environment, on task data built for each expression."""
    restricted, plain = RestrictedEnvironment(), TaskDataEnvironment()
    for data in _samples(text, mode):
        assert _outcome(restricted, mode, text, data) == _outcome(plain, mode, text, data), data


def test_the_real_guards_evaluate_as_engine_tasks_does() -> None:
    env = RestrictedEnvironment()
    guard = "meeting_outcome != 'continue' or meeting_count + 1 < max_meetings"
    assert env.evaluate(guard, {"meeting_outcome": "continue", "meeting_count": 2, "max_meetings": 3}) is False
    assert env.evaluate(guard, {"meeting_outcome": "agreed", "meeting_count": 2, "max_meetings": 3}) is True


def test_the_real_processes_parse_and_pass_check_specs() -> None:
    operators = {str(node.get("id")) for path in BPMN_DIR.glob("*.bpmn")
                 for node in etree.parse(str(path)).getroot().iter(f"{{{NS['spiffworkflow']}}}serviceTaskOperator")}
    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(p) for p in sorted(BPMN_DIR.glob("*.bpmn"))])
    process_ids = parser.get_process_ids()
    assert {"eco_damage_claim", "consultation", "performance", "damage_assessment"} <= set(process_ids)
    for process_id in process_ids:
        spec, subs = parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
        assert check_specs(spec, subs, operators) == [], process_id
    spec = parser.get_spec("eco_damage_claim")
    assert check_specs(spec, {}, operators) == [
        ("damage_assessment", "调用的流程不在本次部署中：damage_assessment"),
        ("obligor_group_track", "子流程不在本次部署中：obligor_group_track"),
    ]
    assert check_specs(parser.get_spec("lead_screening"), {}, set()) == [
        ("compute_next_screening", "服务任务操作不存在：next_cycle"),
        ("collect_pending_leads", "服务任务操作不存在：pending_leads")]


def test_time_and_timer_expressions_of_the_diagrams_evaluate() -> None:
    env = RestrictedEnvironment()
    assert env.evaluate("'R/P30D'", {}) == "R/P30D"
    assert env.evaluate("reply_deadline['expires_at']", {"reply_deadline": {"expires_at": "2025-05-01T00:00:00"}}) \
        == "2025-05-01T00:00:00"
    assert env.evaluate("due + timedelta(days=1) > due", {"due": date(2025, 1, 1)}) is True
    assert env.evaluate("x", {"x": timedelta(days=2)}).days == 2

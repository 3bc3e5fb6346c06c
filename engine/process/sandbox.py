"""The sandbox for Python written in diagrams: every expression and script a deployed diagram holds runs here.

A process analyst can deploy a diagram, so its script tasks, gateway conditions, pre/post scripts, service-task
parameters, timer, loop and message expressions and ``guard`` properties are untrusted code. This module's one job
is to run that code without the service's rights and within bounded work, and to say before deployment, in
Chinese, what a diagram's code is not allowed to do.

How:

* Code is compiled with RestrictedPython (a maintained AST rewriter that Zope has used for years for exactly
  this: user-written Python on a server). It refuses names and attributes starting with ``_`` at compile time and
  routes attribute access, item access, item writes, iteration, sequence unpacking and augmented assignment
  through guard functions that we supply. On top of its policy, ours refuses imports, ``while``, ``def``/``lambda``,
  ``class``, ``try``, ``with``, ``global``, ``yield``, ``*``/``**`` unpacking in calls and literals, and calls of
  ``open``/``exec``/``eval``/``getattr``/``type``/… , and rewrites every arithmetic operator and every f-string
  field into a guard call so sizes can be checked before the result is built.
* The builtins are a whitelist (``len min max sum any all abs round sorted int float str bool list dict set
  tuple enumerate zip range`` and ``date datetime timedelta Decimal``); nothing else exists, not even
  ``__import__``. Attributes are a whitelist per value type (``dict.get``, ``list.append``, ``str.strip``,
  ``date.isoformat``, …): the data is plain task data, so no other object should ever be reached.
* Writes (``d['k'] = v``) are allowed on dicts and lists only; attribute assignment is refused.

What is bounded, per evaluation of one expression or run of one script (constants below):

* loops: ``while`` is refused and there are no functions, so recursion is impossible and the only loops are
  ``for`` and comprehensions, which pull every item through ``_getiter_``: at most ``ITERATION_LIMIT`` items in
  all (tuple unpacking in a ``for`` costs nothing extra);
* ``range()`` has at most ``RANGE_LIMIT`` items;
* sizes: a string, list, tuple, dict or set built by an operator (``+ * | …``), a builtin (``list() str()
  sorted()`` …), a method (``str.join/replace``, ``list.extend``, ``dict.update`` …), a slice or an f-string
  field has at most ``SEQUENCE_LIMIT`` items or characters, checked *before* building it wherever the size can be
  known in advance (``*``, ``+``, ``join``, ``replace``, ``extend``), and all of them together at most
  ``ALLOCATION_LIMIT``;
* numbers: an ``int`` made by ``**``, ``*`` or ``<<`` has at most ``INT_BITS_LIMIT`` bits, refused before it is
  computed; ``round(x, n)`` and format widths/precisions (``f'{x:>999999999}'``) are capped; ``int()`` of a huge
  ``Decimal`` and ``Decimal`` formatting with a huge exponent are refused; ``%`` on strings is refused;
* time: a cooperative deadline (``TIME_LIMIT`` seconds) is checked at every loop step and every guarded
  operation.

What is not bounded here: a loop drawn in the diagram itself (a script task whose gateway leads back to it with
no waiting task on the way) runs each script within these limits but as often as the engine keeps stepping; the
engine's step loop has to cap that. A single builtin operation on data that is already within the limits
(sorting a list of a million items, ``x in big_list``) runs to its end: the deadline is only checked between such
operations, it is not a preemptive timeout. Memory is bounded through the size accounting, not by the operating system.
In-place mutations (``lst.append``) made before a script fails stay in the task data, as with SpiffWorkflow's own
environment; rebinding a variable (``x = 1``) only reaches the task data when the script completes.

Errors: refusals and failures raise :class:`SandboxError`, whose message is short Chinese meant for a person (no
traceback, no data dump); the technical cause is kept in ``detail`` and ``original``. It is raised ``from None``
on purpose: the engine's ``describe()`` walks ``__cause__`` down to the deepest exception and shows that text, and
we want the Chinese message shown, not Python's. :class:`RestrictedScriptEngine` turns it into a
:class:`SandboxTaskError` (a ``WorkflowTaskException`` carrying the task) whose ``str()`` is that message.
"""

from __future__ import annotations

import ast
import decimal
import math
import operator
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, DecimalException
from functools import lru_cache
from types import CodeType, TracebackType
from typing import Any, Final

from RestrictedPython.compile import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import guarded_unpack_sequence
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer, copy_locations
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions import (
    ConditionalEventDefinition,
    MessageEventDefinition,
    MultipleEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin

# The limits. Diagrams need far less: they compare a few fields and build small records.
MAX_SOURCE_CHARS: Final = 20_000
RANGE_LIMIT: Final = 10_000
ITERATION_LIMIT: Final = 100_000
SEQUENCE_LIMIT: Final = 1_000_000
ALLOCATION_LIMIT: Final = 10_000_000
INT_BITS_LIMIT: Final = 65_536  # about 19,700 decimal digits
ROUND_DIGITS_LIMIT: Final = 100
FORMAT_NUMBER_LIMIT: Final = 1_000
DECIMAL_EXPONENT_LIMIT: Final = 10_000
TIME_LIMIT: Final = 2.0

_SCRIPT_FILE = "<script>"
_EXPRESSION_FILE = "<expression>"


class SandboxError(Exception):
    """Refused or failed diagram code. ``str()`` is a short Chinese message; ``detail`` the technical cause."""

    def __init__(self, message: str, detail: str = "", original: BaseException | None = None,
                 line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message
        self.original = original
        self.line = line


class SandboxTaskError(WorkflowTaskException):  # type: ignore[misc]
    """A :class:`SandboxError` on a running task, in the form SpiffWorkflow and the incident record expect."""

    def __init__(self, error: SandboxError, task: Any) -> None:
        super().__init__(error.message, task=task, exception=error, line_number=error.line)
        self.message = error.message
        self.detail = error.detail
        self.sandbox_error = error

    def __str__(self) -> str:
        # SpiffWorkflow's __str__ appends ". " and its notes (English); the person reads the Chinese message only.
        return self.message


# ---------------------------------------------------------------------------------------------------------------
# Compiling: our policy on top of RestrictedPython's
# ---------------------------------------------------------------------------------------------------------------

# I/O, code, introspection and class machinery: none of them exists in the sandbox (calling one would only fail
# with "变量未定义"), but a call to one is an attack or a misunderstanding, so the deploy check names it.
_FORBIDDEN_CALLS: Final = frozenset({
    "open", "exec", "eval", "compile", "getattr", "setattr", "delattr", "hasattr", "globals", "locals", "vars",
    "dir", "type", "input", "breakpoint", "help", "exit", "quit", "memoryview", "bytearray", "object", "super",
    "id", "iter", "next", "format", "print", "classmethod", "staticmethod", "property", "issubclass", "pow",
})

_REFUSED_STATEMENTS: Final[dict[type[ast.AST], str]] = {
    ast.While: "不允许使用 while 循环（请用 for 遍历列表或 range）",
    ast.Import: "不允许导入模块（import）",
    ast.ImportFrom: "不允许导入模块（import）",
    ast.FunctionDef: "不允许定义函数（def）",
    ast.AsyncFunctionDef: "不允许定义函数（def）",
    ast.Lambda: "不允许使用 lambda",
    ast.ClassDef: "不允许定义类（class）",
    ast.Try: "不允许使用 try/except",
    ast.With: "不允许使用 with 语句",
    ast.AsyncWith: "不允许使用 with 语句",
    ast.AsyncFor: "不允许使用 async",
    ast.Await: "不允许使用 await",
    ast.Global: "不允许使用 global/nonlocal",
    ast.Nonlocal: "不允许使用 global/nonlocal",
    ast.Yield: "不允许使用 yield",
    ast.YieldFrom: "不允许使用 yield",
    ast.TryStar: "不允许使用 try/except",
    ast.Match: "不允许使用 match 语句",
}

# Operators whose result can be much larger than their operands, or whose cost depends on their values: they go
# through the ``_op_`` guard. The others still do (``_op_`` also counts the size of a new container).
_BINOP_SYMBOLS: Final[dict[type[ast.operator], str]] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
    ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.MatMult: "@",
}


def _refusal(tree: ast.AST, multiline: bool) -> str | None:
    """The first thing our policy refuses in ``tree`` (a Chinese message), before RestrictedPython looks at it."""
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        where = f"第{line}行：" if line and multiline else ""
        message = _REFUSED_STATEMENTS.get(type(node))
        if message is not None:
            return where + message
        if isinstance(node, ast.Name):
            if node.id.startswith("_") and node.id != "_":
                return f"{where}不允许访问以下划线开头的名称：{node.id}"
            if node.id in ("print", "printed"):
                return f"{where}不允许使用 print"
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                return f"{where}不允许访问以下划线开头的属性：{node.attr}"
            if node.attr in INSPECT_ATTRIBUTES or node.attr in ("format", "format_map"):
                return f"{where}不允许访问属性：{node.attr}"
            if isinstance(node.ctx, ast.Store | ast.Del):
                return f"{where}不允许给属性赋值或删除属性：{node.attr}"
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_CALLS:
                return f"{where}不允许调用：{node.func.id}"
            if any(k.arg is None for k in node.keywords):
                return f"{where}不允许在调用中使用 ** 展开参数"
        elif isinstance(node, ast.Starred) and isinstance(node.ctx, ast.Load):
            return f"{where}不允许使用 * 展开（请用 + 连接列表）"
        elif isinstance(node, ast.Dict) and any(k is None for k in node.keys):
            return f"{where}不允许在字典中使用 ** 展开（请用 d.update(...) 或 |）"
        elif isinstance(node, ast.AugAssign) and not isinstance(node.target, ast.Name):
            return f"{where}不允许对下标或属性使用增量赋值（请写成 d['k'] = d['k'] + 1）"
    return None


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: every binary operator and every f-string field becomes a guard call."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        call = ast.Call(func=ast.Name("_op_", ast.Load()),
                        args=[ast.Constant(_BINOP_SYMBOLS[type(node.op)]), node.left, node.right], keywords=[])
        copy_locations(call, node)
        return call

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        # f'{x:>{n}}' → f'{_format_(x, f">{n}", -1)}': the width is checked before Python pads a string to it.
        node = self.node_contents_visit(node)
        spec: ast.expr = node.format_spec if node.format_spec is not None else ast.Constant("")
        call = ast.Call(func=ast.Name("_format_", ast.Load()),
                        args=[node.value, spec, ast.Constant(node.conversion)], keywords=[])
        copy_locations(call, node)
        new = ast.FormattedValue(value=call, conversion=-1, format_spec=None)
        copy_locations(new, node)
        return new


@lru_cache(maxsize=2048)
def _compile(source: str, mode: str) -> tuple[CodeType | None, str | None]:
    """(code, None) or (None, Chinese message). Cached: the same conditions are evaluated over and over."""
    kind = "表达式" if mode == "eval" else "脚本"
    if len(source) > MAX_SOURCE_CHARS:
        return None, f"{kind}过长（不超过 {MAX_SOURCE_CHARS} 个字符）"
    if not source.strip():
        return None, f"{kind}为空"
    try:
        tree = ast.parse(source, _EXPRESSION_FILE, "eval") if mode == "eval" else ast.parse(source, _SCRIPT_FILE)
    except SyntaxError as exc:
        return None, f"{kind}有语法错误：第{exc.lineno or 1}行第{exc.offset or 1}列（{exc.msg}）"
    except (ValueError, RecursionError, MemoryError):  # NUL bytes, absurd nesting
        return None, f"{kind}无法解析（含非法字符或嵌套过深）"
    refused = _refusal(tree, "\n" in source.strip())
    if refused is not None:
        return None, refused
    try:
        if isinstance(tree, ast.Expression):
            result = compile_restricted_eval(tree, _EXPRESSION_FILE, policy=_Policy)
        else:
            result = compile_restricted_exec(tree, _SCRIPT_FILE, policy=_Policy)
    except (RecursionError, MemoryError):
        return None, f"{kind}嵌套过深"
    if result.errors or result.code is None:
        # Our own walk above should have caught it; RestrictedPython's check is the second line of defence.
        return None, "不允许的写法：" + "；".join(result.errors)
    return result.code, None


def check_expression(text: str) -> str | None:
    """None if ``text`` is an expression the sandbox accepts, else a short Chinese reason."""
    return _compile(text.strip(), "eval")[1]


def check_script(text: str) -> str | None:
    """None if ``text`` is a script the sandbox accepts, else a short Chinese reason."""
    return _compile(text, "exec")[1]


# ---------------------------------------------------------------------------------------------------------------
# Running: the guards, with one budget per evaluation
# ---------------------------------------------------------------------------------------------------------------

_SIZED_RESULTS: Final = (str, bytes, list, tuple, dict, set, frozenset)

# Attributes a script may read, per value type (checked in this order: bool before int, datetime before date).
_ATTRIBUTES: Final[tuple[tuple[type | tuple[type, ...], frozenset[str]], ...]] = (
    (str, frozenset({
        "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha", "isdecimal",
        "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper", "join", "lower", "lstrip",
        "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rpartition", "rsplit",
        "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper"})),
    (dict, frozenset({"get", "keys", "values", "items", "copy", "setdefault", "pop", "update", "clear"})),
    (list, frozenset({"append", "extend", "insert", "pop", "remove", "index", "count", "sort", "reverse", "copy",
                      "clear"})),
    (tuple, frozenset({"index", "count"})),
    ((set, frozenset), frozenset({
        "add", "discard", "remove", "pop", "clear", "copy", "union", "intersection", "difference",
        "symmetric_difference", "issubset", "issuperset", "isdisjoint", "update"})),
    (datetime, frozenset({
        "year", "month", "day", "hour", "minute", "second", "microsecond", "weekday", "isoweekday", "isoformat",
        "isocalendar", "date", "replace", "strftime", "toordinal"})),
    (date, frozenset({"year", "month", "day", "weekday", "isoweekday", "isoformat", "isocalendar", "replace",
                      "strftime", "toordinal"})),
    (timedelta, frozenset({"days", "seconds", "microseconds", "total_seconds"})),
    (Decimal, frozenset({"quantize", "normalize", "is_zero", "is_signed", "is_nan", "is_infinite", "is_finite",
                         "adjusted", "copy_abs", "copy_negate", "compare"})),
)
# The helper classes themselves. No ``today``/``now``: the engine's clock can be simulated, so a diagram takes
# dates from the case data, never from the wall clock.
_CLASS_ATTRIBUTES: Final[dict[type, frozenset[str]]] = {
    date: frozenset({"fromisoformat", "fromordinal", "min", "max"}),
    datetime: frozenset({"fromisoformat", "combine", "strptime", "min", "max"}),
    timedelta: frozenset({"min", "max"}),
    Decimal: frozenset(),
}

_INPLACE: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "|=": operator.ior, "^=": operator.ixor, "&=": operator.iand, "@=": operator.imatmul,
}
_BINARY: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow, "<<": operator.lshift, ">>": operator.rshift, "|": operator.or_,
    "^": operator.xor, "&": operator.and_, "@": operator.matmul,
}
_FORMAT_NUMBER = re.compile(r"\d+")


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, str | bytes | list | tuple)


class _Budget:
    """The guards of one evaluation, sharing its counters: steps, allocated size and deadline."""

    def __init__(self) -> None:
        self.steps = 0
        self.allocated = 0
        self.deadline = time.monotonic() + TIME_LIMIT

    # -- accounting ---------------------------------------------------------------------------------------------

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise SandboxError(f"计算超时（超过 {TIME_LIMIT:g} 秒）")

    def step(self) -> None:
        self.steps += 1
        if self.steps > ITERATION_LIMIT:
            raise SandboxError(f"循环次数超过上限（{ITERATION_LIMIT} 次）")
        self.tick()

    def grow(self, size: int) -> None:
        """Account for a new container or string of ``size`` items or characters (before building it if we can)."""
        if size > SEQUENCE_LIMIT:
            raise SandboxError(f"结果过大（长度超过 {SEQUENCE_LIMIT}）")
        self.allocated += size
        if self.allocated > ALLOCATION_LIMIT:
            raise SandboxError(f"本次计算生成的数据过多（超过 {ALLOCATION_LIMIT}）")
        self.tick()

    def made(self, value: Any) -> Any:
        """Account for ``value``, just built, if it is a container or string; return it."""
        if isinstance(value, _SIZED_RESULTS):
            self.grow(len(value))
        return value

    @staticmethod
    def check_int_bits(bits: int) -> None:
        if bits > INT_BITS_LIMIT:
            raise SandboxError(f"数值过大（超过 {INT_BITS_LIMIT} 位二进制）")

    # -- the guards RestrictedPython's rewritten code calls -----------------------------------------------------

    def getiter(self, ob: Any) -> Iterator[Any]:
        # Every loop and comprehension pulls its items through here: this is the iteration budget.
        for item in iter(ob):
            self.step()
            yield item

    def iter_unpack_sequence(self, it: Any, spec: Any, _getiter_: Any) -> Iterator[Any]:
        # ``for a, b in pairs``: one step per item; unpacking a small item costs nothing more.
        for ob in self.getiter(it):
            yield self.unpack_sequence(ob, spec, iter)

    def unpack_sequence(self, it: Any, spec: Any, _getiter_: Any) -> Any:
        return self.made(guarded_unpack_sequence(it, spec, iter))  # type: ignore[no-untyped-call]  # untyped lib

    def getitem(self, ob: Any, index: Any) -> Any:
        if not isinstance(ob, dict | list | tuple | str | range):
            raise SandboxError(f"不支持对该类型取下标：{type(ob).__name__}")
        value = ob[index]
        return self.made(value) if isinstance(index, slice) else value

    @staticmethod
    def write(ob: Any) -> Any:
        # ``d['k'] = v`` and ``del lst[0]``: only on plain dicts and lists (task data).
        if isinstance(ob, dict | list):
            return ob
        raise SandboxError(f"只能修改字典或列表中的元素，不能修改 {type(ob).__name__}")

    def guarded_getattr(self, ob: Any, name: str, *default: Any) -> Any:
        if not isinstance(name, str) or name.startswith("_"):
            raise SandboxError(f"不允许访问属性：{name}")
        allowed: frozenset[str] = frozenset()
        if isinstance(ob, type):
            allowed = _CLASS_ATTRIBUTES.get(ob, frozenset())
        else:
            for types_, names in _ATTRIBUTES:
                if isinstance(ob, types_):
                    allowed = names
                    break
        if name not in allowed:
            owner = ob.__name__ if isinstance(ob, type) else type(ob).__name__
            raise SandboxError(f"不允许访问属性：{owner}.{name}")
        value = getattr(ob, name)
        return self.bounded_method(ob, name, value) if callable(value) and not isinstance(value, type) else value

    def bounded_method(self, ob: Any, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        """``method`` with its result size accounted for, checked beforehand where it can grow without limit."""
        if isinstance(ob, str) and name == "join":
            def join(items: Iterable[Any]) -> str:
                parts = list(items)
                self.grow(sum(len(p) for p in parts if isinstance(p, str)) + len(ob) * max(len(parts) - 1, 0))
                return ob.join(parts)
            return join
        if isinstance(ob, str) and name == "replace":
            def replace(old: str, new: str, count: int = -1) -> str:
                if isinstance(old, str) and isinstance(new, str):
                    hits = ob.count(old) if old else len(ob) + 1
                    hits = hits if count < 0 else min(hits, count)
                    self.grow(len(ob) + hits * max(len(new) - len(old), 0))
                return ob.replace(old, new, count)
            return replace
        if isinstance(ob, list) and name == "extend":
            def extend(items: Iterable[Any]) -> None:
                items = items if isinstance(items, _SIZED_RESULTS) else list(items)
                self.grow(len(ob) + len(items))
                ob.extend(items)
            return extend

        def call(*args: Any, **kwargs: Any) -> Any:
            before = len(ob) if isinstance(ob, dict | list | set) else 0
            result = method(*args, **kwargs)
            if isinstance(ob, dict | list | set) and len(ob) > before + 1:  # update(): the receiver grew
                self.grow(len(ob) - before)
            if isinstance(ob, str) or name in ("copy", "union", "intersection", "difference",
                                               "symmetric_difference"):
                self.made(result)
            return result
        return call

    def op(self, symbol: str, left: Any, right: Any) -> Any:
        self.check_operands(symbol, left, right)
        return self.made(_BINARY[symbol](left, right))

    def inplacevar(self, symbol: str, left: Any, right: Any) -> Any:
        if symbol not in _INPLACE:
            raise SandboxError(f"不支持的运算：{symbol}")
        self.check_operands(symbol.rstrip("="), left, right)
        return self.made(_INPLACE[symbol](left, right))

    def check_operands(self, symbol: str, left: Any, right: Any) -> None:
        """Refuse, before computing it, a result that would be too large or too slow to compute."""
        self.tick()
        if symbol == "+" and _is_sequence(left) and _is_sequence(right):
            self.grow(len(left) + len(right))
        elif symbol == "*":
            if _is_sequence(left) and _is_int(right):
                self.grow(len(left) * max(right, 0))
            elif _is_int(left) and _is_sequence(right):
                self.grow(len(right) * max(left, 0))
            elif _is_int(left) and _is_int(right):
                self.check_int_bits(left.bit_length() + right.bit_length())
        elif symbol == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
            self.check_int_bits(math.ceil(math.log2(abs(left)) * right))
        elif symbol == "<<" and _is_int(left) and _is_int(right) and right > 0 and left != 0:
            self.check_int_bits(left.bit_length() + right)
        elif symbol == "%" and isinstance(left, str | bytes):
            raise SandboxError("不允许用 % 格式化字符串（请使用 f-string）")

    def format_field(self, value: Any, spec: str, conversion: int) -> str:
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("a"):
            value = ascii(value)
        elif conversion == ord("s"):
            value = str(value)
        if any(int(n) > FORMAT_NUMBER_LIMIT for n in _FORMAT_NUMBER.findall(spec)):
            raise SandboxError(f"格式宽度或精度过大（不超过 {FORMAT_NUMBER_LIMIT}）")
        _check_decimal_size(value)
        result: str = self.made(format(value, spec))
        return result

    # -- builtins that build or convert -------------------------------------------------------------------------

    def limited_range(self, *args: int) -> range:
        result = range(*args)
        if len(result) > RANGE_LIMIT:
            raise SandboxError(f"range 最多 {RANGE_LIMIT} 个数")
        return result

    def make_list(self, items: Iterable[Any] = ()) -> list[Any]:
        result: list[Any] = self.made(list(items))
        return result

    def make_tuple(self, items: Iterable[Any] = ()) -> tuple[Any, ...]:
        result: tuple[Any, ...] = self.made(tuple(items))
        return result

    def make_set(self, items: Iterable[Any] = ()) -> set[Any]:
        result: set[Any] = self.made(set(items))
        return result

    def make_dict(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        result: dict[Any, Any] = self.made(dict(*args, **kwargs))
        return result

    def make_sorted(self, items: Iterable[Any], *, key: Callable[[Any], Any] | None = None,
               reverse: bool = False) -> list[Any]:
        result: list[Any] = self.made(sorted(items, key=key, reverse=reverse))
        return result

    def make_str(self, *args: Any) -> str:
        if args:
            _check_decimal_size(args[0])
        result: str = self.made(str(*args))
        return result

    @staticmethod
    def make_int(*args: Any) -> int:
        if args:
            _check_decimal_size(args[0])
        return int(*args)

    @staticmethod
    def limited_round(number: Any, ndigits: int | None = None) -> Any:
        if ndigits is not None and _is_int(ndigits) and abs(ndigits) > ROUND_DIGITS_LIMIT:
            raise SandboxError(f"round 的位数不超过 {ROUND_DIGITS_LIMIT}")
        if ndigits is None:
            _check_decimal_size(number)
        return round(number, ndigits)

    @staticmethod
    def number_sum(items: Iterable[Any], start: Any = 0) -> Any:
        # sum(lists, []) copies quadratically; numbers only.
        if not isinstance(start, int | float | Decimal):
            raise SandboxError("sum 只能对数字求和")
        return sum(items, start)

    def scope(self) -> dict[str, Any]:
        """The names RestrictedPython's rewritten code needs, and the builtins (nothing else exists)."""
        builtins: dict[str, Any] = {
            "True": True, "False": False, "None": None,
            "len": len, "min": min, "max": max, "any": any, "all": all, "abs": abs, "float": float, "bool": bool,
            "enumerate": enumerate, "zip": zip,
            "sum": self.number_sum, "round": self.limited_round, "sorted": self.make_sorted, "int": self.make_int,
            "str": self.make_str, "list": self.make_list, "dict": self.make_dict, "set": self.make_set,
            "tuple": self.make_tuple, "range": self.limited_range,
            "date": date, "datetime": datetime, "timedelta": timedelta, "Decimal": Decimal,
        }
        return {
            "__builtins__": builtins,
            "_getattr_": self.guarded_getattr, "_getitem_": self.getitem, "_getiter_": self.getiter, "_write_": self.write,
            "_iter_unpack_sequence_": self.iter_unpack_sequence, "_unpack_sequence_": self.unpack_sequence,
            "_inplacevar_": self.inplacevar, "_op_": self.op, "_format_": self.format_field,
        }


def _check_decimal_size(value: Any) -> None:
    # int(Decimal('1e100000000')) and f'{d:f}' would write out a hundred million digits.
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) > DECIMAL_EXPONENT_LIMIT:
        raise SandboxError(f"小数的数量级过大（超过 10 的 {DECIMAL_EXPONENT_LIMIT} 次方）")


# ---------------------------------------------------------------------------------------------------------------
# Errors in Chinese
# ---------------------------------------------------------------------------------------------------------------


def _short(text: str, limit: int = 60) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[:limit] + "…"


def _reason(exc: BaseException) -> str:
    """A short Chinese description of a failure (never the data it was working on beyond a few characters)."""
    if isinstance(exc, NameError):
        name = getattr(exc, "name", None)
        return f"变量未定义：{name}" if name else "变量未定义"
    if isinstance(exc, KeyError):
        return f"键不存在：{_short(repr(exc.args[0]) if exc.args else '', 40)}"
    if isinstance(exc, IndexError):
        return "下标超出范围"
    if isinstance(exc, ZeroDivisionError):  # decimal.DivisionByZero too
        return "除数为零"
    if isinstance(exc, OverflowError | decimal.Overflow):
        return "数值溢出"
    if isinstance(exc, DecimalException):
        return f"小数运算无效（{type(exc).__name__}）"
    if isinstance(exc, RecursionError):
        return "计算嵌套过深"
    if isinstance(exc, MemoryError):
        return "内存不足，计算过大"
    if isinstance(exc, TypeError):
        return f"类型错误（{_short(str(exc))}）"
    if isinstance(exc, ValueError):
        return f"取值错误（{_short(str(exc))}）"
    if isinstance(exc, AttributeError):
        return f"属性不存在（{_short(str(exc))}）"
    if isinstance(exc, AssertionError):
        return f"断言不成立{('：' + _short(str(exc))) if str(exc) else ''}"
    return f"{type(exc).__name__}（{_short(str(exc))}）"


def _line_of(tb: TracebackType | None, filename: str) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _failure(exc: Exception, mode: str) -> SandboxError:
    """The SandboxError to raise for ``exc``, raised while running compiled code of ``mode``."""
    filename = _EXPRESSION_FILE if mode == "eval" else _SCRIPT_FILE
    line = _line_of(exc.__traceback__, filename)
    reason = exc.message if isinstance(exc, SandboxError) else _reason(exc)
    detail = exc.detail if isinstance(exc, SandboxError) else f"{type(exc).__name__}: {exc}"
    if mode == "eval":
        message = f"表达式计算失败：{reason}"
    else:
        message = f"脚本第{line}行执行失败：{reason}" if line else f"脚本执行失败：{reason}"
    return SandboxError(message, detail=detail, original=exc, line=line)


# ---------------------------------------------------------------------------------------------------------------
# The environment
# ---------------------------------------------------------------------------------------------------------------


class RestrictedEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """SpiffWorkflow's task-data environment, with every expression and script compiled and run in the sandbox.

    ``helpers`` are extra trusted names for diagram code (the caller vouches for them: they run unrestricted).
    """

    def __init__(self, helpers: Mapping[str, Any] | None = None) -> None:
        super().__init__({})  # the base class's globals stay empty: our names live in the sandbox's builtins
        self.helpers = dict(helpers or {})

    def _scope(self, budget: _Budget, context: Mapping[str, Any], external: Mapping[str, Any]) -> dict[str, Any]:
        scope: dict[str, Any] = {**external, **context}
        guards = budget.scope()
        guards["__builtins__"].update(self.helpers)
        scope.update(guards)  # last: task data can never replace a guard (its keys can't start with "_" anyway)
        return scope

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        code, refused = _compile(str(expression).strip(), "eval")
        if code is None:
            raise SandboxError(refused or "表达式不被允许")
        self._prepare_context(context)
        scope = self._scope(_Budget(), context, external_context or {})
        try:
            return eval(code, scope)  # noqa: S307 — compiled by RestrictedPython with our policy, guarded globals
        except Exception as exc:
            raise _failure(exc, "eval") from None

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        external = dict(external_context or {})
        try:
            self.check_for_overwrite(context, external)
        except ValueError as exc:
            clash = "、".join(sorted(set(context) & set(external)))
            raise SandboxError(f"任务数据中的变量与数据对象重名：{clash}", detail=str(exc)) from None
        code, refused = _compile(str(script), "exec")
        if code is None:
            raise SandboxError(refused or "脚本不被允许")
        self._prepare_context(context)
        scope = self._scope(_Budget(), context, external)
        reserved = {k for k in scope if k not in context} | set(external)  # guards, builtins, data objects
        try:
            exec(code, scope)  # noqa: S102 — compiled by RestrictedPython with our policy, guarded globals
        except Exception as exc:
            raise _failure(exc, "exec") from None
        # The script ran to its end: its variables become task data, as with SpiffWorkflow's own environment
        # (callables, data objects and our guard names are not data and stay out).
        for key in [k for k in context if k not in scope]:
            del context[key]
        for key, value in scope.items():
            if (key in reserved and key not in context) or callable(value):
                continue
            context[key] = value
        return True


class RestrictedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """A script engine on :class:`RestrictedEnvironment` whose failures are :class:`SandboxTaskError`.

    SpiffWorkflow's own engine wraps our error as "Error evaluating expression '…'" / "SandboxError:…"; this one
    keeps the Chinese message as the exception's text and still carries the task (for the incident's element).
    """

    def __init__(self, environment: RestrictedEnvironment | None = None) -> None:
        super().__init__(environment=environment or RestrictedEnvironment())

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SandboxError as exc:
            raise SandboxTaskError(exc, task) from None

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except SandboxError as exc:
            raise SandboxTaskError(exc, task) from None


# ---------------------------------------------------------------------------------------------------------------
# Deploy-time checking of a parsed bundle
# ---------------------------------------------------------------------------------------------------------------


def _element(task_spec: Any) -> str:
    return str(getattr(task_spec, "bpmn_id", None) or task_spec.name)


def _event_definitions(task_spec: Any) -> list[Any]:
    definition = getattr(task_spec, "event_definition", None)
    if definition is None:
        return []
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition]


def _check_task_spec(task_spec: Any, process: Any, subprocess_specs: Mapping[str, Any],
                     operators: Collection[str]) -> list[tuple[str, str]]:
    element = _element(task_spec)
    found: list[tuple[str, str]] = []

    def expression(label: str, text: Any) -> None:
        if text is None:
            return
        problem = check_expression(str(text))
        if problem is not None:
            found.append((element, f"{label}：{problem}"))

    def script(label: str, text: Any) -> None:
        if text is None:
            return
        problem = check_script(str(text))
        if problem is not None:
            found.append((element, f"{label}：{problem}"))

    if isinstance(task_spec, BusinessRuleTaskMixin):
        found.append((element, "本系统不支持业务规则任务（DMN）"))
    script("脚本", getattr(task_spec, "script", None))
    script("前置脚本", getattr(task_spec, "prescript", None))
    script("后置脚本", getattr(task_spec, "postscript", None))
    for condition, target in getattr(task_spec, "cond_task_specs", None) or []:
        if condition is None:  # the default flow
            continue
        target_spec = process.task_specs.get(target)
        label = f"通往 {_element(target_spec) if target_spec is not None else target} 的条件"
        expression(label, condition.args[0] if getattr(condition, "args", None) else condition)
    operation = getattr(task_spec, "operation_name", None)
    if operation is not None:
        if operation not in operators:
            found.append((element, f"服务任务操作不存在：{operation}"))
        for name, param in (getattr(task_spec, "operation_params", None) or {}).items():
            expression(f"服务任务参数 {name}", param.get("value") if isinstance(param, Mapping) else param)
    if isinstance(task_spec, MultiInstanceTask):
        expression("多实例基数", task_spec.cardinality)
        expression("多实例完成条件", task_spec.condition)
    elif isinstance(task_spec, StandardLoopTask):
        expression("循环条件", task_spec.condition)
    for definition in _event_definitions(task_spec):
        if isinstance(definition, TimerEventDefinition):
            expression("定时器表达式", definition.expression)
        elif isinstance(definition, ConditionalEventDefinition):
            expression("条件事件表达式", definition.expression)
        elif isinstance(definition, MessageEventDefinition):
            expression("消息内容表达式", getattr(definition, "expression", None))
            for prop in [*definition.correlation_properties, *getattr(definition, "process_correlations", [])]:
                expression(f"消息关联表达式 {prop.name}", prop.retrieval_expression)
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
    if properties.get("guard") is not None:
        expression("任务规则（guard）", properties["guard"])
    if isinstance(task_spec, SubWorkflowTask) and subprocess_specs.get(task_spec.spec) is None:
        kind = "调用的流程" if isinstance(task_spec, CallActivity) else "子流程"
        found.append((element, f"{kind}不在本次部署中：{task_spec.spec}"))
    return found


def check_specs(spec: Any, subprocess_specs: dict[str, Any], operators: Collection[str]) -> list[tuple[str, str]]:
    """Every problem of a parsed bundle (the top process and the processes it calls) as (element id, message).

    Checks every sequence-flow condition, script, pre/post script, service-task operator and parameter,
    multi-instance and loop expression, timer, conditional and message expression and ``guard`` property, and that
    every called process is in the bundle. All problems are collected, in diagram order.
    """
    problems: list[tuple[str, str]] = []
    processes = [spec, *(s for s in subprocess_specs.values() if s is not None)]
    seen: set[int] = set()
    for process in processes:
        if id(process) in seen:
            continue
        seen.add(id(process))
        completion = getattr(process, "completion_condition", None)  # an ad hoc subprocess
        if completion is not None:
            problem = check_expression(str(completion))
            if problem is not None:
                problems.append((str(process.name), f"完成条件：{problem}"))
        for task_spec in process.task_specs.values():
            problems.extend(_check_task_spec(task_spec, process, subprocess_specs, operators))
    return problems

"""The Jinja2 sandbox letters render in, with every resource a template can consume bounded.

Jinja2's immutable sandbox keeps templates away from Python internals; it does not bound
time or memory. A letter is a few kilobytes, so a template that loops a billion times,
builds a string of a gigabyte or an integer of a million digits is a mistake or an
attack, and each of those is refused here as a sandbox violation (a located error,
exit 1) before it can exhaust the machine:

- loops: every `{% for %}` iterates through a counter, at most `MAX_ITERATIONS` per
  rendering; recursive loops (`{% for ... recursive %}`) are refused when compiled;
- time: loops, calls and attribute lookups check a deadline of `MAX_SECONDS` per rendering;
- text: what a template prints adds up to at most `MAX_OUTPUT` characters, and every
  string, list or joined text it builds (`~`, `+`, `*`, `%`, `join`, `replace`, `center`,
  format widths...) at most `MAX_RESULT`, checked before the work is done where the
  result could be large;
- numbers: integers are limited to `MAX_BITS` bits (`*` and `**` are checked before).

The state is per environment and reset for each rendering: an environment renders
one template at a time (each `arrears notices` run and each request builds its own).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from jinja2 import nodes, pass_environment
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

MAX_ITERATIONS = 100_000  # loop iterations per rendering (a letter lists tens of invoices)
MAX_SECONDS = 5.0  # per rendering; the default letters take a few milliseconds
MAX_OUTPUT = 1_000_000  # characters a rendering may print
MAX_RESULT = 1_000_000  # characters (or items) of one value a template builds
MAX_BITS = 100_000  # bits of an integer (about 30,000 digits)
MAX_EXPONENT = 1_000
MAX_ARGUMENT = 100_000  # an integer given to a filter or a text method (a width, a count)

# Widths and precisions in %-formats (`%999999d`) and format specs (`{:>999999}`).
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d*)(?:\.(\d*))?")
_FORMAT_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")
# str methods and filters whose integer arguments are a size or a count of the work.
_SIZED_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_SIZED_FILTERS = frozenset({"center", "indent", "truncate", "wordwrap", "batch", "slice", "round"})


class Budget:
    """What one rendering has used: loop iterations, printed characters, time."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.deadline = time.monotonic() + MAX_SECONDS
        self.iterations = 0
        self.printed = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise SecurityError(f"the template took longer than {MAX_SECONDS:g} seconds to render")

    def iterate(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS:
            raise SecurityError(f"the template loops more than {MAX_ITERATIONS:,} times")
        self.check_time()

    def print(self, length: int) -> None:
        self.printed += length
        if self.printed > MAX_OUTPUT:
            raise SecurityError(f"the template prints more than {MAX_OUTPUT:,} characters")


def check_length(value: object) -> None:
    """A string, list or tuple a template built must not be longer than MAX_RESULT."""
    if isinstance(value, str | list | tuple) and len(value) > MAX_RESULT:
        raise SecurityError(f"a value of more than {MAX_RESULT:,} characters or items is too long for a template")


def check_number(value: object) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_BITS:
        raise SecurityError(f"a number of more than {MAX_BITS:,} bits is too large for a template")


def check_format(text: object) -> None:
    """A format string must not ask for a width or precision that builds a huge text."""
    if not isinstance(text, str):
        return
    sizes = [n for m in _PERCENT_SPEC.finditer(text) for n in m.groups() if n]
    sizes += re.findall(r"\d+", " ".join(_FORMAT_SPEC.findall(text)))
    if any(len(n) > 6 or int(n) > MAX_ARGUMENT for n in sizes):
        raise SecurityError(f"a format width or precision over {MAX_ARGUMENT:,} is too large for a template")


def check_join(items: object, separator: object = "") -> None:
    """Joining must not build a huge text: the parts are measured first."""
    if not isinstance(items, list | tuple):
        return
    check_length(items)
    size = len(separator) * len(items) if isinstance(separator, str) else 0
    for item in items:
        size += len(item) if isinstance(item, str) else 0
        if size > MAX_RESULT:
            raise SecurityError(f"the joined text would be longer than {MAX_RESULT:,} characters")


def check_replace(text: object, old: object, new: object, count: object = -1) -> None:
    """`replace` must not build a huge text: the result's length is known before."""
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return
    times = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    if len(text) + times * (len(new) - len(old)) > MAX_RESULT:
        raise SecurityError(f"the replaced text would be longer than {MAX_RESULT:,} characters")


def _check_arguments(args: Iterable[object]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_ARGUMENT:
            raise SecurityError(f"an argument over {MAX_ARGUMENT:,} is too large for a template")


def guard_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose arguments and result are checked (the value it filters is data)."""
    # Jinja2 passes the context, eval context or environment first to a filter marked so:
    # the wrapper carries the same mark, and the checks skip that first argument.
    passed = 1 if hasattr(function, "jinja_pass_arg") else 0

    def guarded(*args: Any, **kwargs: Any) -> Any:
        args_list = list(args)
        rest = args_list[passed + 1 :]
        if name in _SIZED_FILTERS:
            # Other filters take numbers as data (`selectattr("open_amount", "gt", 250000)`).
            _check_arguments([*rest, *kwargs.values()])
        if len(args_list) > passed:
            value = args_list[passed]
            if name == "join":
                if isinstance(value, Iterator):
                    # Measured before joining, so a generator (`map`, `select`) is read once here.
                    value = args_list[passed] = list(value)
                check_join(value, rest[0] if rest else kwargs.get("d", ""))
            elif name == "replace":
                check_replace(value, *rest[:3])
            elif name == "format":
                check_format(value)
            elif name == "wordwrap" and isinstance(value, str) and len(value) > MAX_ARGUMENT:
                # textwrap takes seconds over a long text, and no deadline can stop it midway.
                raise SecurityError(f"wordwrap of a text over {MAX_ARGUMENT:,} characters is too slow for a template")
        result = function(*args_list, **kwargs)
        check_length(result)
        return result

    if passed:
        guarded.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    guarded.__name__ = getattr(function, "__name__", name)
    guarded.__doc__ = function.__doc__
    return guarded


class GuardedCode(CodeGenerator):
    """Jinja2's code generator, with every loop counted and every `~` measured."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if node.recursive:
            # A recursive loop calls itself with a new iterable the counter would not see.
            self.fail("recursive loops are not allowed in a template", node.lineno)
        # The text the body prints as it is, charged on each turn: the error then points at the loop.
        static = sum(len(data.data) for child in node.body for data in child.find_all(nodes.TemplateData))
        arguments = [node.iter, nodes.Const(static)]
        counted = nodes.Call(nodes.EnvironmentAttribute("counted"), arguments, [], None, None, lineno=node.lineno)
        guarded = nodes.For(node.target, counted, node.body, node.else_, node.test, node.recursive, lineno=node.lineno)
        super().visit_For(guarded, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.measured(")
        super().visit_Concat(node, frame)
        self.write(")")


@pass_environment
def _finalize(environment: Sandbox, value: Any) -> Any:
    """Everything printed with `{{ }}` counts towards MAX_OUTPUT."""
    environment.budget.print(len(value) if isinstance(value, str) else len(str(value)))
    return value


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with time, loops, text and numbers bounded."""

    code_generator_class = GuardedCode
    intercepted_binops = frozenset({"+", "*", "**", "%"})
    globals_range = staticmethod(safe_range)

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_finalize, **options)
        self.budget = Budget()

    def guard_filters(self) -> None:
        """Wrap every filter (call after adding the project's)."""
        self.filters = {name: guard_filter(name, f) for name, f in self.filters.items()}

    def counted(self, iterable: Iterable[Any], static: int) -> Iterator[Any]:
        for item in iterable:
            self.budget.iterate()
            self.budget.print(static)
            yield item

    def measured(self, text: str) -> str:
        check_length(text)
        return text

    def concat(self, parts: Iterable[str]) -> str:
        """Output and captured blocks are joined only when they are not too long."""
        pieces = []
        size = 0
        for piece in parts:
            size += len(piece)
            if size > MAX_OUTPUT:
                raise SecurityError(f"the template prints more than {MAX_OUTPUT:,} characters")
            pieces.append(piece)
        return "".join(pieces)

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.budget.check_time()
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            # The sandbox hands out its own wrapper for these, which `call` cannot recognise.
            check_format(obj)
        return super().getattr(obj, attribute)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        __self.budget.check_time()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            method = getattr(__obj, "__name__", "")
            if method in _SIZED_METHODS:
                _check_arguments([*args, *kwargs.values()])
            elif method == "join":
                check_join(args[0] if args else (), owner)
            elif method == "replace":
                check_replace(owner, *args[:3])
            elif method in ("format", "format_map"):
                check_format(owner)
        result = super().call(__context, __obj, *args, **kwargs)
        check_length(result)
        return result

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        self.budget.check_time()
        if operator == "**":
            if isinstance(right, int | Decimal) and not -MAX_EXPONENT <= right <= MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is too large for a template")
            if isinstance(left, int) and isinstance(right, int) and right > 0 and left.bit_length() * right > MAX_BITS:
                raise SecurityError(f"a number of more than {MAX_BITS:,} bits is too large for a template")
            return left**right
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | tuple | list) and isinstance(times, int) and len(seq) * times > MAX_RESULT:
                    raise SecurityError(f"a value of more than {MAX_RESULT:,} characters or items is too long")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_BITS:
                raise SecurityError(f"a number of more than {MAX_BITS:,} bits is too large for a template")
            return left * right
        if operator == "+":
            sequences = isinstance(left, str | tuple | list) and isinstance(right, str | tuple | list)
            if sequences and len(left) + len(right) > MAX_RESULT:
                raise SecurityError(f"a value of more than {MAX_RESULT:,} characters or items is too long")
            result = super().call_binop(context, operator, left, right)
            check_number(result)
            return result
        if operator == "%" and isinstance(left, str):
            check_format(left)
            result = super().call_binop(context, operator, left, right)
            check_length(result)
            return result
        return super().call_binop(context, operator, left, right)

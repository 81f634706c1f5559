"""Action calls: `remind(tone=firm)` checked against the action's typed parameters."""

from __future__ import annotations

from arrears.diagnostics import counted, did_you_mean
from arrears.dsl import ast
from arrears.dsl.checker import FUNCTIONS, Checker
from arrears.dsl.compiler import Compiler
from arrears.dsl.env import Environment
from arrears.dsl.problems import ExpressionError, Problem
from arrears.dsl.values import Value
from arrears.rules.context import CompileContext
from arrears.rules.model import ActionCall, Expression
from arrears.rules.rate_table_decls import check_interest_params
from arrears.rules.rate_tables import RateTable
from arrears.rules.yaml_source import SourceMap


def check_action(
    ctx: CompileContext,
    call: ast.ActionCall,
    source: SourceMap,
    text: str,
    path: str,
    env: Environment,
) -> ActionCall | None:
    """Resolve an action call; report unknown actions and parameters, wrong types, missing ones."""
    signature = env.actions.get(call.name)
    if signature is None:
        hint = did_you_mean(call.name, env.actions)
        if call.name in FUNCTIONS:
            hint = f"`{call.name}` is a function: it belongs in a condition"
        if hint is None:
            hint = "declare it under `actions:` or use one of: " + ", ".join(sorted(env.actions))
        ctx.problems(
            [Problem(f"unknown action `{call.name}`", call.name_span, hint, "unknown-action")],
            source,
            path,
        )
        return None
    problems: list[Problem] = []
    given: dict[str, ast.Expr] = {}
    names = [p.name for p in signature.params]
    for i, arg in enumerate(call.args):
        if i >= len(names):
            problems.append(
                Problem(
                    f"`{call.name}` takes at most {counted(len(names), 'parameter')}",
                    arg.span,
                    None,
                    "bad-arguments",
                )
            )
            break
        given[names[i]] = arg
    for keyword in call.keywords:
        if signature.param(keyword.name) is None:
            hint = did_you_mean(keyword.name, names) or (
                f"`{call.name}` takes {', '.join(names)}" if names else f"`{call.name}` takes no parameters"
            )
            problems.append(
                Problem(
                    f"`{call.name}` has no parameter `{keyword.name}`",
                    keyword.name_span,
                    hint,
                    "unknown-parameter",
                )
            )
            continue
        if keyword.name in given:
            problems.append(Problem(f"`{keyword.name}` is given twice", keyword.name_span, None, "bad-arguments"))
            continue
        given[keyword.name] = keyword.value
    for param in signature.params:
        if param.required and param.name not in given:
            problems.append(
                Problem(
                    f"`{call.name}` needs `{param.name}`",
                    call.span,
                    f"for example {call.name}({param.name}=...)",
                    "missing-parameter",
                )
            )
    if signature.one_of:
        chosen = [n for n in signature.one_of if n in given]
        if len(chosen) != 1:
            listed = " or ".join(f"`{n}`" for n in signature.one_of)
            problems.append(
                Problem(
                    f"`{call.name}` takes exactly one of {listed}",
                    call.span,
                    None,
                    "missing-parameter",
                )
            )
    if signature.builtin:
        problems.extend(check_interest_params(call.name, given, tuple(env.rate_tables)))
    table = given.get("table")
    rate_table = env.rate_tables.get(table.name) if isinstance(table, ast.Name) and signature.builtin else None
    checker = Checker(env, ctx.table)
    for name, value in given.items():
        given_param = signature.param(name)
        assert given_param is not None
        if name == "table" and rate_table is None:
            continue  # judged above, with a better message than the enum's
        checker.check_param(value, given_param.type, f"`{name}`")
    problems.extend(checker.problems)
    if not problems and checker.degraded:
        return None  # rests on a declaration already reported as broken
    if problems:
        ctx.problems(problems, source, path)
        return None
    params: list[tuple[str, Expression | Value]] = []
    compiler = Compiler(ctx.table)
    for param in signature.params:
        if param.name in given:
            node = given[param.name]
            try:
                constant = compiler.constant(node)
                fn = compiler.compile(node)
            except ExpressionError as error:
                ctx.problems(error.problems, source, path)
                return None
            expression = Expression(
                text=text,
                node=node,
                type=ctx.table.type_of(node),
                fn=fn,
                source=source,
                references=frozenset(),
                per_invoice=False,
                constant=constant is not None,
            )
            params.append((param.name, constant.value if constant is not None else expression))
        elif param.default is not None:
            params.append((param.name, default_value(param.default)))
    return ActionCall(
        name=call.name,
        params=tuple(params),
        signature=signature,
        location=source.location(call.span.start, call.span.end),
        text=text[call.span.start : call.span.end],
        rate_table=rate_table if isinstance(rate_table, RateTable) else None,
    )


def default_value(node: ast.Expr) -> Value:
    if isinstance(node, ast.Literal):
        return node.value
    raise AssertionError("defaults are literals")  # pragma: no cover

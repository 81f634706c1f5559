"""`explain`: for one invoice, every rule and ladder step, fired or not, and the values that decided it.

Conditions are re-run with tracing closures, so each side of every and/or, each
comparison and each name shows the value it had; a side never evaluated (because
`and`/`or` short-circuited) says so.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from arrears.diagnostics import Diagnostic, InputError, suggest
from arrears.dsl import ast
from arrears.dsl.business import BUSINESS_FIELD
from arrears.dsl.problems import EvalFailure
from arrears.dsl.values import Value, invisible_characters, show, to_json, visible
from arrears.engine.evaluate import evaluate, traced
from arrears.engine.explain_calendar import calendar_section, render_calendar
from arrears.engine.explain_rates import accrual, render_accrual
from arrears.engine.outcomes import Outcome
from arrears.engine.runtime import Env, release
from arrears.engine.snapshot import Snapshot
from arrears.rules.fx import BASE_FIELDS, invoice_currency, rate_on
from arrears.rules.model import Expression, Ladder, Policy, Rule
from arrears.textsafe import visible_lines

NOT_EVALUATED = object()
INVOICE_FACTS = (
    "customer_id",
    "amount",
    "open_amount",
    "currency",
    "issue_date",
    "due_date",
    "days_overdue",
    "disputed",
)


def _nearest_id(wanted: str, ids: list[str]) -> str | None:
    """A did-you-mean hint naming the id visibly: `"INV\\u200b1"`, not an id that looks like the one typed."""
    best = suggest(wanted, ids)
    if best is None:
        return None
    hidden = invisible_characters(best)
    return f"did you mean {visible(best)}?" + (f" (it holds {', '.join(hidden)})" if hidden else "")


def explain(policy: Policy, snapshot: Snapshot, invoice_id: str) -> dict[str, Any]:
    """A JSON-ready explanation of how the policy treats one invoice."""
    invoice = next((i for i in snapshot.invoices if i.id == invoice_id), None)
    if invoice is None:
        raise InputError(
            Diagnostic(
                f"invoice {visible(invoice_id)} is not in the snapshot",
                hint=_nearest_id(invoice_id, [i.id for i in snapshot.invoices]),
                code="unknown-invoice",
            )
        )
    evaluation = evaluate(policy, snapshot, condition_fn=traced(policy), only_invoice=invoice_id)
    env = evaluation.envs[invoice_id]
    cenv = evaluation.envs[f"customer:{invoice.customer_id}"]
    facts = {k: to_json(env[k]) for k in INVOICE_FACTS}
    if snapshot.currency is not None:
        facts.update({k: to_json(env[k]) for k in BASE_FIELDS})
    if policy.calendar is not None:
        facts[BUSINESS_FIELD] = to_json(env[BUSINESS_FIELD])
    lets = {}
    for name in policy.lets:
        try:
            lets[name] = to_json(env[name])
        except EvalFailure as failure:
            lets[name] = f"error: {failure.message}"
    doc = {
        "invoice": invoice_id,
        "customer": invoice.customer_id,
        "as_of": snapshot.as_of.isoformat(),
        "policy": {"id": policy.id, "version": policy.version, "digest": policy.digest},
        "facts": facts,
        **({"rate": _rate_used(snapshot, invoice.values)} if snapshot.currency is not None else {}),
        "lets": lets,
        "customer_rules": [_outcome(o, cenv, policy) for o in evaluation.outcomes[(invoice.customer_id, None)]],
        "rules": [_outcome(o, env, policy) for o in evaluation.outcomes[(invoice.customer_id, invoice_id)]],
        "actions": [
            {
                "rule": a.rule,
                "step": a.step,
                "action": a.action,
                "params": {k: to_json(v) for k, v in a.params},
            }
            for a in evaluation.actions
        ],
    }
    due = invoice.values["due_date"]
    if policy.calendar is not None and isinstance(due, dt.date):
        doc["calendar"] = calendar_section(policy.calendar, due, snapshot.as_of)
    release(evaluation.envs.values())
    return doc


def _rate_used(snapshot: Snapshot, values: dict[str, Value]) -> dict[str, Any]:
    """The exchange rate the invoice's base amounts used (SPEC 7.1), and where it comes from."""
    base = snapshot.currency
    assert base is not None
    code = invoice_currency(values) or base
    found = rate_on(snapshot.rates, code, snapshot.as_of) if code != base else None
    return {
        "currency": code,
        "base": base,
        "rate": to_json(found.rate if found is not None else Decimal(1)),
        "from": found.start.isoformat() if found is not None and found.start is not None else None,
        "source": f"rates[{found.index}]" if found is not None else "the base currency",
    }


def _outcome(outcome: Outcome, env: Env, policy: Policy) -> dict[str, Any]:
    item = outcome.item
    out: dict[str, Any] = {
        "id": item.id,
        "kind": "rule" if isinstance(item, Rule) else "ladder",
        "line": item.location.start.line,
        "priority": item.priority,
        "status": outcome.status,
        "reason": outcome.reason,
    }
    if isinstance(item, Rule):
        out["final"] = item.final
        if outcome.status != "suppressed":
            out["condition"] = _tree(item.condition, item.condition.node, env)
        if outcome.held:
            out["held"] = [{"action": a, "reason": r} for a, r in outcome.held]
    else:
        out.update(_ladder(item, outcome, env))
    if outcome.actions:
        out["issued"] = [_issued(a.action, dict(a.params), env, policy) for a in outcome.actions]
    return out


def _issued(action: str, params: dict[str, Value], env: Env, policy: Policy) -> dict[str, Any]:
    out: dict[str, Any] = {"action": action, "params": {k: to_json(v) for k, v in params.items()}}
    if action == "interest" and "table" in params:
        found = accrual(policy, params, env.get("due_date"), env.as_of)
        if found is not None:
            out["accrual"] = found  # the rates used and the days in each period
    return out


def _ladder(ladder: Ladder, outcome: Outcome, env: Env) -> dict[str, Any]:
    out: dict[str, Any] = {"level": outcome.level, "skip": ladder.skip}
    if ladder.days == "business":
        out["days"] = "business"
    if ladder.unless is not None and outcome.status != "suppressed":
        out["unless"] = _tree(ladder.unless, ladder.unless.node, env)
    if ladder.min_gap is not None:
        out["min_gap"] = f"{ladder.min_gap.days}d" + (" (business days)" if ladder.days == "business" else "")
    steps = []
    for s in outcome.steps:
        step: dict[str, Any] = {
            "step": s.step.index,
            "at": s.step.at,
            "reached": s.reached,
            "done": s.done,
            "passed_over": not s.above_level and not s.done,
            "chosen": s.chosen,
            "then": ", ".join(a.text for a in s.step.actions),
        }
        if s.step.when is not None:
            step["when"] = (
                _tree(s.step.when, s.step.when.node, env)
                if s.when is not None
                else {
                    "text": s.step.when.snippet(s.step.when.node.span),
                    "value": "not evaluated",
                }
            )
        steps.append(step)
    out["steps"] = steps
    return out


def _value(env: Env, node: ast.Expr) -> object:
    recorded = env.recorded or {}
    if node not in recorded and isinstance(node, ast.Literal):
        return node.value  # constants are folded, never traced
    return recorded.get(node, NOT_EVALUATED)


def _tree(expression: Expression, node: ast.Expr, env: Env) -> dict[str, Any]:
    """The value of a condition and, for and/or/not, of each part; names show their values."""
    value = _value(env, node)
    out: dict[str, Any] = {
        "text": expression.snippet(node.span),
        "value": "not evaluated" if value is NOT_EVALUATED else to_json(value),  # type: ignore[arg-type]
    }
    if isinstance(node, ast.BoolOp):
        out["parts"] = [_tree(expression, node.left, env), _tree(expression, node.right, env)]
    elif isinstance(node, ast.Not):
        out["parts"] = [_tree(expression, node.operand, env)]
    else:
        values: dict[str, Any] = {}
        for sub in ast.walk(node):
            if sub is node or not isinstance(sub, ast.Name | ast.Attribute | ast.Call | ast.Binary):
                continue
            v = _value(env, sub)
            if v is not NOT_EVALUATED:
                values.setdefault(expression.snippet(sub.span), to_json(v))  # type: ignore[arg-type]
        if values:
            out["values"] = values
    return out


def render_explain(doc: dict[str, Any]) -> str:
    """The explanation as indented text for a person."""
    lines = [
        f"invoice {doc['invoice']} (customer {doc['customer']}) as of {doc['as_of']}, policy {doc['policy']['id']}",
        "  " + ", ".join(f"{k}={_show_json(v)}" for k, v in doc["facts"].items()),
    ]
    if "rate" in doc:
        rate = doc["rate"]
        since = f" from {rate['from']}" if rate["from"] else ""
        lines.append(f"  rate: 1 {rate['currency']} = {rate['rate']} {rate['base']}{since} ({rate['source']})")
    if "calendar" in doc:
        lines.extend(render_calendar(doc["calendar"]))
    if doc["lets"]:
        lines.append("  lets: " + ", ".join(f"{k}={_show_json(v)}" for k, v in doc["lets"].items()))
    if doc["customer_rules"]:
        lines.append("")
        lines.append(f"customer {doc['customer']}:")
        for item in doc["customer_rules"]:
            lines.extend(_render_item(item))
    lines.append("")
    lines.append("rules and ladders, in evaluation order:")
    for item in doc["rules"]:
        lines.extend(_render_item(item))
    lines.append("")
    if doc["actions"]:
        lines.append("plan for this invoice:")
        for a in doc["actions"]:
            rule = a["rule"] + (f" step {a['step']}" if a["step"] is not None else "")
            params = ", ".join(f"{k}={_show_json(v)}" for k, v in a["params"].items())
            lines.append(f"  {a['action']}({params})  <- {rule}")
    else:
        lines.append("plan for this invoice: no action")
    return visible_lines(lines)  # ids, names and values from the snapshot: no control reaches the terminal


_MARKS = {
    "fired": "FIRED",
    "held": "HELD",
    "not-fired": "no",
    "suppressed": "SILENCED",
    "error": "ERROR",
    "skipped": "no",
}


def _render_item(item: dict[str, Any]) -> list[str]:
    head = f"  [{_MARKS[item['status']]}] {item['kind']} {item['id']} (line {item['line']}, priority {item['priority']}"
    head += ", final)" if item.get("final") else ")"
    lines = [head + f": {item['reason']}"]
    if "condition" in item:
        lines.extend(_render_tree(item["condition"], "      when "))
    if "unless" in item:
        lines.extend(_render_tree(item["unless"], "      unless "))
    steps = item.get("steps", [])
    chosen = next((s["step"] for s in steps if s["chosen"]), None)
    for step in steps:
        state = _step_state(step, chosen, item.get("skip", True))
        lines.append(f"      step {step['step']} at {step['at']}: {state} -> {step['then']}")
        if "when" in step:
            lines.extend(_render_tree(step["when"], "        when "))
    for held in item.get("held", []):
        lines.append(f"      held back {held['action']}: {held['reason']}")
    for issued in item.get("issued", []):
        params = ", ".join(f"{k}={_show_json(v)}" for k, v in issued["params"].items())
        lines.append(f"      -> {issued['action']}({params})")
        if "accrual" in issued:
            lines.extend(render_accrual(issued["accrual"], "           "))
    return lines


def _step_state(step: dict[str, Any], chosen: int | None, skip: bool) -> str:
    """A step's state in words: "due" only for a step that could fire today."""
    if step["chosen"]:
        return "chosen"
    if step["done"]:
        return "done"
    if step["passed_over"]:
        return "passed over"
    if not step["reached"]:
        return "not due"
    if step.get("when", {}).get("value") is False:
        return "due by `at`, held back by `when`"
    if chosen is not None and step["step"] < chosen:
        return f"due, passed over for step {chosen}"
    if chosen is not None and step["step"] > chosen and not skip:
        return "due by `at`, waits: one step per run (`skip: false`)"
    return "due"


def _render_tree(tree: dict[str, Any], prefix: str, depth: int = 0) -> list[str]:
    indent = " " * len(prefix) if depth else prefix
    pad = "  " * depth
    value = tree["value"]
    mark = "true " if value is True else ("false" if value is False else str(value))
    line = f"{indent}{pad}{mark:<5} {tree['text']}"
    if "values" in tree:
        line += "   [" + ", ".join(f"{k} = {_show_json(v)}" for k, v in tree["values"].items()) + "]"
    lines = [line]
    for part in tree.get("parts", []):
        lines.extend(_render_tree(part, prefix, depth + 1))
    return lines


def _show_json(value: Value | Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_show_json(v) for v in value) + "]"
    return show(value) if not isinstance(value, str) else value


__all__ = ["explain", "render_explain"]

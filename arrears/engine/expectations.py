"""The `expect` list of a policy test case (SPEC section 5): read against the policy, then matched.

An expectation that can never match is a mistake in the test, not a failing policy: an
unknown action, parameter, rule or ladder step, an invoice or customer the case does not
hold, a parameter value of the wrong type. Each is a located error with a "did you
mean", like a policy error, instead of a silent mismatch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arrears.diagnostics import Diagnostic, did_you_mean
from arrears.dsl.types import DECIMAL, STRING
from arrears.dsl.values import CoercionError, Value, coerce, to_json
from arrears.engine.outcomes import PlannedAction
from arrears.engine.sources import written_data
from arrears.rules.model import Ladder, Policy
from arrears.rules.yaml_source import YNode

EXPECT_KEYS = ("invoice", "customer", "action", "rule", "step", "params")
# What the plan adds to these built-in actions: the computed money and its currency (SPEC 7.1).
COMPUTED = {"late_fee": ("amount", "currency"), "interest": ("amount", "currency")}
COMPUTED_TYPES = {"amount": DECIMAL, "currency": STRING}


@dataclass
class Expectation:
    fields: dict[str, Any]
    params: dict[str, Value]
    shown: dict[str, Any]

    def matches(self, action: PlannedAction) -> bool:
        for key, wanted in self.fields.items():
            if getattr(action, key) != wanted:
                return False
        actual = dict(action.params)
        return all(_param_matches(actual, key, wanted) for key, wanted in self.params.items())


def _param_matches(actual: dict[str, Value], key: str, wanted: Value) -> bool:
    if wanted is None:
        return actual.get(key) is None  # a listed null matches a parameter left out because it is null
    return key in actual and _equal(actual[key], wanted)


def _equal(actual: Value, wanted: Value) -> bool:
    if isinstance(actual, Decimal | int) and isinstance(wanted, Decimal | int) and not isinstance(actual, bool):
        return Decimal(actual) == Decimal(wanted)
    return actual == wanted


@dataclass(frozen=True)
class CaseIds:
    """The invoice and customer ids a case's snapshot holds: what an expectation may name."""

    invoices: frozenset[str]
    customers: frozenset[str]


def read_expectations(
    node: YNode | None, policy: Policy, ids: CaseIds, problems: list[Diagnostic]
) -> list[Expectation]:
    """The case's expectations; each mistake is appended to `problems`, located in the test file."""
    if node is None or (node.kind == "scalar" and node.value is None):
        return []
    if node.kind != "sequence":
        problems.append(Diagnostic("`expect` must be a list of actions", node.location(), code="test"))
        return []
    out: list[Expectation] = []
    for item in node.items:
        before = len(problems)
        expectation = _read(item, policy, ids, problems)
        if expectation is not None and len(problems) == before:
            out.append(expectation)
    return out


def _read(item: YNode, policy: Policy, ids: CaseIds, problems: list[Diagnostic]) -> Expectation | None:
    if item.kind != "mapping":
        problems.append(
            Diagnostic("an expectation is a mapping", item.location(), "write it as `{invoice: A, action: remind}`")
        )
        return None
    misspelt_action = False
    for key, (key_node, _) in item.entries.items():
        if key not in EXPECT_KEYS:
            hint = did_you_mean(key, EXPECT_KEYS)
            misspelt_action = misspelt_action or hint == "did you mean `action`?"
            problems.append(
                Diagnostic(
                    f"unknown key `{key}` in an expectation",
                    key_node.location(),
                    hint or f"an expectation takes: {', '.join(EXPECT_KEYS)}",
                    code="unknown-key",
                )
            )
    if item.get("action") is None:
        if not misspelt_action:
            problems.append(
                Diagnostic(
                    "an expectation names at least its `action`",
                    item.location(),
                    "write it as `{invoice: A, action: remind}`",
                    code="test",
                )
            )
        return None
    data = item.plain()
    written = written_data(item)  # ids as written, as the snapshot rows read them (`00123` stays text)
    fields: dict[str, Any] = {"action": _text(data["action"])}
    action_node = item.get("action")
    assert action_node is not None
    signature = policy.actions.get(fields["action"])
    if signature is None:
        problems.append(
            Diagnostic(
                f"unknown action `{fields['action']}`: the policy can plan no such action",
                action_node.location(),
                did_you_mean(fields["action"], policy.actions),
                code="unknown-action",
            )
        )
    for key, known, what in (("invoice", ids.invoices, "invoice"), ("customer", ids.customers, "customer")):
        if key not in data:
            continue
        fields[key] = None if written[key] is None else str(written[key])
        if fields[key] is not None and fields[key] not in known:
            problems.append(
                Diagnostic(
                    f"{what} `{fields[key]}` is not in this case's snapshot, so no action can be planned for it",
                    _at(item, key),
                    did_you_mean(fields[key], known),
                    code="unknown-id",
                )
            )
    item_of_rule = _rule(item, data, policy, fields, problems)
    if "step" in data:
        fields["step"] = data["step"]
        _check_step(item, data["step"], item_of_rule, problems)
    params = _params(item, policy, fields["action"], problems)
    return Expectation(fields, params, _plain(data))


def _rule(item: YNode, data: dict[str, Any], policy: Policy, fields: dict[str, Any], problems: list[Diagnostic]) -> Any:
    if "rule" not in data:
        return None
    fields["rule"] = None if data["rule"] is None else str(written_data(item)["rule"])
    found = policy.item(fields["rule"]) if fields["rule"] is not None else None
    if found is None:
        ids = [r.id for r in policy.rules] + [ladder.id for ladder in policy.ladders]
        problems.append(
            Diagnostic(
                f"unknown rule or ladder `{fields['rule']}`",
                _at(item, "rule"),
                did_you_mean(str(fields["rule"]), ids) or f"the policy has: {', '.join(ids) or 'none'}",
                code="unknown-rule",
            )
        )
    return found


def _check_step(item: YNode, step: Any, rule: Any, problems: list[Diagnostic]) -> None:
    if step is None:
        return
    if isinstance(step, bool) or not isinstance(step, int):
        problems.append(Diagnostic("`step` is a step index: 0, 1, 2…", _at(item, "step"), code="test"))
        return
    if rule is None:
        return
    if not isinstance(rule, Ladder):
        problems.append(
            Diagnostic(
                f"`{rule.id}` is a rule, which has no steps",
                _at(item, "step"),
                "leave `step` out, or name a ladder in `rule`",
                code="test",
            )
        )
    elif not 0 <= step < len(rule.steps):
        problems.append(
            Diagnostic(
                f"ladder `{rule.id}` has no step {step}",
                _at(item, "step"),
                f"its steps are 0 to {len(rule.steps) - 1}",
                code="test",
            )
        )


def _params(item: YNode, policy: Policy, action: str, problems: list[Diagnostic]) -> dict[str, Value]:
    node = item.get("params")
    params: dict[str, Value] = {}
    if node is None or (node.kind == "scalar" and node.value is None):
        return params
    if node.kind != "mapping":
        problems.append(Diagnostic("`params` is a mapping: `{tone: firm}`", node.location(), code="test"))
        return params
    signature = policy.actions.get(action)
    if signature is None:
        return params  # the unknown action is reported already
    names = [p.name for p in signature.params]
    computed = COMPUTED.get(action, ()) if signature.builtin else ()
    for key, (key_node, value_node) in node.entries.items():
        param = signature.param(key)
        if param is None and key not in computed:
            problems.append(
                Diagnostic(
                    f"`{action}` has no parameter `{key}`",
                    key_node.location(),
                    did_you_mean(key, [*names, *computed])
                    or f"`{action}` takes: {', '.join(names) or 'no parameters'}",
                    code="unknown-param",
                )
            )
            continue
        target = param.type if param is not None else COMPUTED_TYPES[key]
        try:
            params[key] = coerce(value_node.plain(), target.optional(True))
        except CoercionError as error:
            problems.append(Diagnostic(f"params.{key}: {error}", value_node.location(), code="test"))
    return params


def _at(item: YNode, key: str) -> Any:
    node = item.get(key)
    return (node or item).location()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _plain(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, dt.date | dt.timedelta | Decimal):
        return to_json(data)
    return data


def match(expected: list[Expectation], actual: list[PlannedAction]) -> tuple[list[Expectation], list[PlannedAction]]:
    """A maximum matching of expectations to actions; what is left over on each side."""
    owner: dict[int, int] = {}

    def augment(e: int, seen: set[int]) -> bool:
        for a, action in enumerate(actual):
            if a in seen or not expected[e].matches(action):
                continue
            seen.add(a)
            if a not in owner or augment(owner[a], seen):
                owner[a] = e
                return True
        return False

    matched = {e for e in range(len(expected)) if augment(e, set())}
    missing = [expected[e] for e in range(len(expected)) if e not in matched]
    unexpected = [actual[a] for a in range(len(actual)) if a not in owner]
    return missing, unexpected


__all__ = ["CaseIds", "Expectation", "match", "read_expectations"]

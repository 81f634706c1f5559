"""Load a policy file (SPEC section 1) into a checked, compiled Policy.

Every mistake in the file is found in one pass and reported with its line, column
and document path; nothing is evaluated until the whole policy is sound.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from arrears.diagnostics import (
    Diagnostic,
    InputError,
    Location,
    PolicyError,
    Position,
    did_you_mean,
)
from arrears.dsl import ast
from arrears.dsl.business import BUSINESS_FIELD
from arrears.dsl.env import ActionSignature, Environment, Symbol, Unavailable
from arrears.dsl.types import ANY, BOOL, INT
from arrears.dsl.types import DURATION as DURATION_TYPE
from arrears.dsl.values import CoercionError, coerce
from arrears.rules.actions import check_action
from arrears.rules.calendar import Calendar
from arrears.rules.calendar_loader import ladder_days, read_calendar
from arrears.rules.catalog import (
    BASE_CURRENCY_FIELDS,
    BUILTIN_ACTIONS,
    BUILTIN_SYMBOLS,
    interest_signature,
    unavailable_names,
)
from arrears.rules.context import CompileContext
from arrears.rules.declarations import Declarations
from arrears.rules.discovery import decode_policy
from arrears.rules.fx import currency_problem
from arrears.rules.model import (
    ActionCall,
    Expression,
    FieldDef,
    Ladder,
    LadderStep,
    LetDef,
    Policy,
    Rule,
)
from arrears.rules.rate_table_decls import BrokenTable, read_rate_tables
from arrears.rules.rate_tables import RateTable
from arrears.rules.yaml_source import YNode, load_yaml

POLICY_KEYS = (
    "arrears",
    "policy",
    "version",
    "description",
    "fields",
    "let",
    "rules",
    "ladders",
    "actions",
    "currency",
    "calendar",
    "rate_tables",
)
RULE_KEYS = ("id", "description", "rule", "when", "then", "priority", "final", "scope", "repeat")
LADDER_KEYS = ("id", "description", "unless", "min_gap", "skip", "priority", "steps", "days")
_LADDER_KEYS_CHECKED = (*LADDER_KEYS, "final")  # `final` gets its own message
STEP_KEYS = ("at", "when", "then", "description")
POLICY_ID = re.compile(r"^[a-z0-9_-]+$")
ITEM_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
DURATION = re.compile(r"^\s*(\d+)\s*([dw])\s*$")


def read_policy_text(path: str | Path, file: str | None = None) -> str:
    """A policy file's text; InputError (exit 2) when it cannot be read. `file` names it."""
    shown = file or str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(Diagnostic(f"no such file: {shown}", code="io")) from None
    except OSError as error:
        raise InputError(Diagnostic(f"cannot read {shown}: {error}", code="io")) from None
    return decode_policy(data, shown)


def load_policy(path: str | Path) -> Policy:
    """Read and compile a policy file; raise PolicyError with every problem found."""
    return load_policy_text(read_policy_text(path), str(path))


def load_policy_text(text: str, file: str = "<policy>") -> Policy:
    """Compile policy YAML text; `file` names it in diagnostics."""
    try:
        root = load_yaml(text, file)
    except InputError as error:
        # A policy that is not valid YAML is an invalid policy (exit 1), not unreadable input.
        raise PolicyError(error.diagnostics) from None
    if root is None:
        raise PolicyError(Diagnostic("the policy file is empty", Location(file, Position(1, 1)), code="structure"))
    return _PolicyBuilder(CompileContext(file, text), root).build()


class _PolicyBuilder(Declarations):
    def __init__(self, ctx: CompileContext, root: YNode) -> None:
        self.ctx = ctx
        self.root = root
        self.symbols: dict[str, Symbol] = dict(BUILTIN_SYMBOLS)
        self.actions: dict[str, ActionSignature] = dict(BUILTIN_ACTIONS)
        self.fields: dict[str, FieldDef] = {}
        self.lets: dict[str, LetDef] = {}
        self.ids: dict[str, YNode] = {}
        self.currency: str | None = None
        self.rate_tables: dict[str, RateTable | BrokenTable] = {}

    def env(self, scope: str = "invoice") -> Environment:
        return Environment(self.symbols, self.actions, scope, self.unavailable, self.rate_tables)  # type: ignore[arg-type]

    @property
    def unavailable(self) -> dict[str, Unavailable]:
        # A wrong currency code or a broken calendar is reported once, where it is written.
        return unavailable_names(
            currency=self.currency is not None or self.root.get("currency") is not None,
            calendar=self.root.get("calendar") is not None,
        )

    def _currency(self, node: YNode | None) -> None:
        """`currency:`: the base currency, an ISO 4217 code; its derived fields become names."""
        if node is None:
            return
        self.symbols.update((s.name, s) for s in BASE_CURRENCY_FIELDS)
        code = node.text.strip() if node.kind == "scalar" and node.value is not None else ""
        problem = currency_problem(code) if code else "`currency` is an ISO 4217 code like EUR"
        if problem is not None:
            message, _, hint = problem.partition("; ")
            self.ctx.error(node, "$.currency", message, hint or None, "bad-currency")
            return
        self.currency = code

    def build(self) -> Policy:
        ctx, root = self.ctx, self.root
        if not ctx.mapping(root, "$", "a policy", POLICY_KEYS, ("arrears", "policy")) and root.kind != "mapping":
            raise PolicyError(ctx.sink.items)
        version_node = root.get("arrears")
        if version_node is not None and not (
            version_node.kind == "scalar" and version_node.value == 1 and not isinstance(version_node.value, bool)
        ):
            ctx.error(
                version_node,
                "$.arrears",
                f"unsupported format version `{version_node.text}`",
                "this arrears reads `arrears: 1`",
                "version",
            )
        policy_id = self._policy_id()
        version = root.get("version")
        description = root.get("description")
        self._currency(root.get("currency"))
        calendar = self._calendar(root.get("calendar"))
        self.rate_tables = read_rate_tables(ctx, root.get("rate_tables"))
        self.actions["interest"] = interest_signature(tuple(self.rate_tables))
        self._fields(root.get("fields"))
        self._actions(root.get("actions"))
        self._lets(root.get("let"))
        rules = self._rules(root.get("rules"))
        ladders = self._ladders(root.get("ladders"))
        if root.get("rules") is None and root.get("ladders") is None and not ctx.sink.errors:
            ctx.error(
                root,
                "$",
                "the policy has no rules and no ladders",
                "add a `rules:` or `ladders:` section",
                "empty-policy",
            )
        if ctx.sink.errors:
            raise PolicyError(ctx.sink.items)
        return Policy(
            id=policy_id or "",
            version=None if version is None or version.value is None else str(version.text),
            description=None if description is None else str(description.value),
            path=ctx.file,
            text=ctx.text,
            digest="sha256:" + hashlib.sha256(ctx.text.encode("utf-8")).hexdigest(),
            fields=self.fields,
            lets=self.lets,
            rules=tuple(rules),
            ladders=tuple(ladders),
            actions=self.actions,
            env=self.env(),
            table=ctx.table,
            symbols=self.symbols,
            currency=self.currency,
            calendar=calendar,
            rate_tables={k: t for k, t in self.rate_tables.items() if isinstance(t, RateTable)},
        )

    def _calendar(self, node: YNode | None) -> Calendar | None:
        """The policy's calendar; with one, `business_days_overdue` and the calendar functions exist."""
        if node is None:
            return None
        calendar = read_calendar(self.ctx, node)
        if calendar is not None:
            self.ctx.table.calendar = calendar
            self.symbols[BUSINESS_FIELD] = Symbol(
                BUSINESS_FIELD,
                INT,
                "invoice",
                per_invoice=True,
                doc="business days after due_date up to as_of; negative before due",
            )
        else:
            # Reported once; its names should not also read as missing a calendar (and the
            # policy is refused before anything runs, so the stand-in is never asked).
            self.ctx.table.calendar = Calendar()
            self.symbols[BUSINESS_FIELD] = Symbol(BUSINESS_FIELD, ANY, "invoice", per_invoice=True)
        return calendar

    def _policy_id(self) -> str | None:
        node = self.root.get("policy")
        if node is None:
            return None
        value = node.text if node.kind == "scalar" else ""
        if not POLICY_ID.match(value):
            self.ctx.error(
                node,
                "$.policy",
                f"policy id `{value}` must use only a-z, 0-9, `_` and `-`",
                code="bad-id",
            )
            return None
        return value

    # -- rules ----------------------------------------------------------------

    def _item_id(self, node: YNode, path: str) -> str | None:
        id_node = node.get("id")
        if id_node is None:
            return None
        value = id_node.text if id_node.kind == "scalar" else ""
        if not ITEM_ID.match(value):
            self.ctx.error(
                id_node,
                f"{path}.id",
                f"id `{value}` may use only letters, digits, `_`, `-` and `.`",
                code="bad-id",
            )
            return None
        if value in self.ids:
            first = self.ids[value].start.line
            self.ctx.error(
                id_node,
                f"{path}.id",
                f"id `{value}` is used twice (first at line {first})",
                "rule and ladder ids are unique: plans refer to them",
                "duplicate-id",
            )
            return None
        self.ids[value] = id_node
        return value

    def _sequence(self, node: YNode | None, path: str, what: str) -> list[YNode]:
        if node is None:
            return []
        if node.kind == "scalar" and node.value is None:
            return []
        if node.kind != "sequence":
            self.ctx.error(node, path, f"`{what}` must be a list")
            return []
        return node.items

    def _common(self, node: YNode, path: str) -> tuple[int, bool]:
        priority = self.ctx.scalar(node.get("priority"), f"{path}.priority", "`priority`", (int,))
        final_node = node.get("final")
        final = self.ctx.scalar(final_node, f"{path}.final", "`final`", (bool,))
        return (priority if isinstance(priority, int) else 0), bool(final)

    def _duration(self, node: YNode | None, path: str, what: str, allow_never: bool = False) -> Any:
        if node is None:
            return None
        text = node.text.strip() if node.kind == "scalar" else ""
        if allow_never and text == "never":
            return None
        match = DURATION.match(text)
        if not match or not match.group(1).strip("0"):
            example = "`never` or a duration like `7d`" if allow_never else "a duration like `7d` or `2w`"
            self.ctx.error(node, path, f"{what} must be {example}, not `{text}`", code="bad-duration")
            return None
        try:
            return coerce(text, DURATION_TYPE)
        except CoercionError as error:  # beyond the accepted range of durations
            self.ctx.error(node, path, f"{what}: {error}", code="bad-duration")
            return None

    def _then(self, node: YNode | None, path: str, env: Environment) -> tuple[ActionCall, ...] | None:
        if node is None:
            return None
        items = node.items if node.kind == "sequence" else [node]
        torn = [i for i in items if i.kind == "scalar" and i.style is None and i.text.count("(") != i.text.count(")")]
        if node.kind == "sequence" and node.flow and torn:
            self.ctx.error(
                torn[0],
                path,
                f"`{torn[0].text}` is cut short because YAML flow style `[…]` splits at commas",
                'quote each action holding a comma: then: ["remind(tone=final, channel=letter)", late_fee(rate=2%)]',
                "flow-comma",
            )
            return None
        calls: list[ActionCall] = []
        ok = True
        for i, item in enumerate(items):
            item_path = f"{path}[{i}]" if node.kind == "sequence" else path
            parsed = self.ctx.parse(item, item_path, "an action", start="actions")
            if parsed is None:
                ok = False
                continue
            trees, source, text = parsed
            for tree in trees:
                call = check_action(self.ctx, tree, source, text, item_path, env)
                ok = ok and call is not None
                if call is not None:
                    calls.append(call)
        if not calls and ok:
            self.ctx.error(node, path, "`then` needs at least one action")
            return None
        return tuple(calls) if ok else None

    def _rules(self, node: YNode | None) -> list[Rule]:
        rules: list[Rule] = []
        for i, item in enumerate(self._sequence(node, "$.rules", "rules")):
            path = f"$.rules[{i}]"
            well_formed = self.ctx.mapping(item, path, "a rule", RULE_KEYS, ("id",))
            if not well_formed and (item.kind != "mapping" or self.ctx.flow_comma):
                continue
            rule = self._rule(item, path)
            if rule is not None:
                rules.append(rule)
        return rules

    def _rule(self, item: YNode, path: str) -> Rule | None:
        ctx = self.ctx
        rule_id = self._item_id(item, path)
        scope_node = item.get("scope")
        scope = "invoice"
        if scope_node is not None:
            if scope_node.kind == "scalar" and scope_node.text in ("invoice", "customer"):
                scope = scope_node.text
            else:
                ctx.error(
                    scope_node,
                    f"{path}.scope",
                    f"`scope` is `invoice` or `customer`, not `{scope_node.text}`",
                    did_you_mean(scope_node.text, ("invoice", "customer")),
                    "bad-scope",
                )
        env = self.env(scope)
        priority, final = self._common(item, path)
        repeat = self._duration(item.get("repeat"), f"{path}.repeat", "`repeat`", allow_never=True)
        sentence, when, then = item.get("rule"), item.get("when"), item.get("then")
        condition: Expression | None = None
        actions: tuple[ActionCall, ...] | None = None
        if sentence is not None:
            if when is not None or then is not None:
                ctx.error(
                    sentence,
                    f"{path}.rule",
                    "a rule has either `rule:` or `when:` with `then:`, not both",
                    code="structure",
                )
                return None
            parsed = ctx.parse(sentence, f"{path}.rule", "a rule sentence", start="rule")
            if parsed is None:
                return None
            tree, source, text = parsed
            assert isinstance(tree, ast.RuleSentence)
            condition = ctx.compile(tree.condition, source, text, f"{path}.rule", env, BOOL, "condition")
            calls = [check_action(ctx, a, source, text, f"{path}.rule", env) for a in tree.actions]
            actions = None if any(c is None for c in calls) else tuple(c for c in calls if c is not None)
        elif when is None or then is None:
            if "id" in item.entries:
                missing = (
                    "`when:` and `then:`"
                    if when is None and then is None
                    else ("`then:`" if when is not None else "`when:`")
                )
                shown = item.get("id").text  # type: ignore[union-attr]
                ctx.error(
                    item,
                    path,
                    f"rule `{shown}` needs {missing}",
                    "or the one-line form: rule: if <condition> then <action>",
                    "missing-key",
                )
            return None
        else:
            condition = self._condition(when, f"{path}.when", env)
            actions = self._then(then, f"{path}.then", env)
        if rule_id is None or condition is None or actions is None:
            return None
        description = item.get("description")
        return Rule(
            id=rule_id,
            condition=condition,
            actions=actions,
            priority=priority,
            final=final,
            scope=scope,  # type: ignore[arg-type]
            repeat=repeat,
            order=item.start.index,
            location=item.get("id").location() if item.get("id") else item.location(),  # type: ignore[union-attr]
            description=None if description is None else str(description.value),
        )

    def _condition(self, node: YNode, path: str, env: Environment) -> Expression | None:
        parsed = self.ctx.parse(node, path, "a condition")
        if parsed is None:
            return None
        tree, source, text = parsed
        return self.ctx.compile(tree, source, text, path, env, BOOL, "condition")

    # -- ladders ---------------------------------------------------------------

    def _ladders(self, node: YNode | None) -> list[Ladder]:
        ladders: list[Ladder] = []
        for i, item in enumerate(self._sequence(node, "$.ladders", "ladders")):
            path = f"$.ladders[{i}]"
            if (
                not self.ctx.mapping(item, path, "a ladder", _LADDER_KEYS_CHECKED, ("id", "steps"))
                and item.kind != "mapping"
            ):
                continue
            ladder = self._ladder(item, path)
            if ladder is not None:
                ladders.append(ladder)
        return ladders

    def _ladder(self, item: YNode, path: str) -> Ladder | None:
        ctx = self.ctx
        env = self.env()
        ladder_id = self._item_id(item, path)
        priority, _ = self._common(item, path)
        if item.get("final") is not None:
            ctx.error(item.key_node("final"), f"{path}.final", "`final` belongs to rules, not ladders")
        unless_node = item.get("unless")
        unless = self._condition(unless_node, f"{path}.unless", env) if unless_node is not None else None
        min_gap = self._duration(item.get("min_gap"), f"{path}.min_gap", "`min_gap`")
        skip = ctx.scalar(item.get("skip"), f"{path}.skip", "`skip`", (bool,))
        days = ladder_days(ctx, item.get("days"), f"{path}.days", self.root.get("calendar") is not None)
        steps: list[LadderStep] = []
        ok = unless_node is None or unless is not None
        step_nodes = self._sequence(item.get("steps"), f"{path}.steps", "steps")
        if item.get("steps") is not None and not step_nodes:
            ctx.error(item.get("steps"), f"{path}.steps", "a ladder needs at least one step")
            ok = False
        for index, step_node in enumerate(step_nodes):
            step_path = f"{path}.steps[{index}]"
            if not ctx.mapping(step_node, step_path, "a ladder step", STEP_KEYS, ("at", "then")):
                ok = False
                if step_node.kind != "mapping" or ctx.flow_comma:
                    continue
            at = ctx.scalar(step_node.get("at"), f"{step_path}.at", "`at` (days overdue)", (int,))
            when_node = step_node.get("when")
            when = self._condition(when_node, f"{step_path}.when", env) if when_node is not None else None
            actions = self._then(step_node.get("then"), f"{step_path}.then", env)
            if at is None or actions is None or (when_node is not None and when is None):
                ok = False
                continue
            steps.append(LadderStep(index, at, when, actions, step_node.location()))
        if ladder_id is None or not ok:
            return None
        description = item.get("description")
        return Ladder(
            id=ladder_id,
            steps=tuple(steps),
            unless=unless,
            min_gap=min_gap,
            skip=True if skip is None else bool(skip),
            priority=priority,
            order=item.start.index,
            location=item.get("id").location() if item.get("id") else item.location(),  # type: ignore[union-attr]
            description=None if description is None else str(description.value),
            days=days,
        )

"""Lower a checked policy into a Program: the one place evaluation order and control flow are read.

Per scope (invoice, customer) every name an item reads becomes a column definition, in
dependency order: input fields with their defaults, derived fields and built-in
aggregates from `registry`, the policy's aggregates, and lets (each scope has its own copy
of a let, as each row-engine environment evaluates its own: a history function in a let
reads the history of the invoice or customer at hand). Items then become boolean
columns, in priority order:

    silenced(i) = any(cond(j) for final rule j of a higher priority in the scope)
    fires(rule) = cond and not silenced
    emit(rule, action) = fires and not (last_done is not null and (repeat is never or as_of - last_done < repeat))
    chosen(ladder) = if(active, the highest step s > level with at <= days_overdue and when,
                         or only level + 1 with skip: false)
    active = not silenced and not unless and (last step null or as_of - last step >= min_gap)

With a business calendar (SPEC 7.4) a `days: business` ladder compares `at` with
`business_days_overdue` and counts `min_gap` as `business_index(as_of) - business_index(last
step)`; with `quiet: true` a customer-facing action's mask (a ladder step's, if any of its
actions faces the customer) is also `is_business_day(as_of)`.
"""

from __future__ import annotations

from typing import Literal

from arrears.dsl import ast
from arrears.dsl.calls import aggregate_parts
from arrears.dsl.compiler import Compiler
from arrears.dsl.functions import Constant
from arrears.dsl.types import BOOL, DATE, INT, PERCENT, STRING, Type
from arrears.program import registry as R
from arrears.program.ir import (
    Aggregate,
    AsOf,
    Chosen,
    Const,
    Emit,
    Fired,
    History,
    Input,
    Item,
    LadderLast,
    LadderLevel,
    LastDone,
    Node,
    Param,
    Prim,
    Program,
    Ref,
    ScopeKind,
    false,
    integer,
    prim,
    walk,
)
from arrears.program.rates import lower_rate, money_in
from arrears.rules import credits, flow, rate_tables
from arrears.rules.catalog import (
    BUILTIN_SYMBOLS,
    CUSTOMER_FIELDS,
    INTEREST_PLUS_DEFAULT,
    INVOICE_FIELDS,
)
from arrears.rules.model import ActionCall, Expression, Ladder, Policy, Rule
from arrears.rules.rate_tables import RateTable

_INVOICE_INPUTS = {s.name: s.type for s in INVOICE_FIELDS}
_CUSTOMER_INPUTS = {s.name: s.type for s in CUSTOMER_FIELDS}


class LoweringError(Exception):
    """A construct the program cannot express (engines report it as unsupported)."""


class _Scope:
    """Column definitions of one scope, made on first reference so dependencies come first."""

    def __init__(self, lowering: _Lowering, kind: ScopeKind) -> None:
        self.lowering = lowering
        self.kind = kind
        self.columns = lowering.program.columns(kind)
        self._busy: set[str] = set()

    def ref(self, name: str) -> Ref:
        t = self.lowering.type_of_name(name)
        if name not in self.columns:
            if name in self._busy:  # pragma: no cover - the checker rejects cycles
                raise LoweringError(f"cycle through `{name}`")
            self._busy.add(name)
            self.columns[name] = self._define(name, t)
            self._busy.discard(name)
        return Ref(t, name)

    def _define(self, name: str, t: Type) -> Node:
        low = self.lowering
        policy = low.policy
        if name in policy.lets:
            return low.expr(policy.lets[name].expression.node, self)
        derived = R.DERIVED.get(name) or (R.BASE_DERIVED.get(name) if policy.currency is not None else None)
        if derived is not None:
            node = derived()
            for sub in _refs(node):
                self.ref(sub)
            low.note_inputs(node)
            return node
        if name in R.CUSTOMER_AGGREGATES:
            agg = R.customer_aggregate(name, policy.currency is not None)
            for part in (agg.value, agg.where, agg.currency):
                if part is not None:
                    for sub in _refs(part):
                        low.invoice.ref(sub)
            return agg
        return low.input_field(name, t)


def _refs(node: Node) -> list[str]:
    return [n.name for n in walk(node) if isinstance(n, Ref)]


class _Lowering:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.program = Program(policy.id)
        self.folder = Compiler(policy.table)
        self.invoice = _Scope(self, "invoice")
        self.customer = _Scope(self, "customer")

    def type_of_name(self, name: str) -> Type:
        if name in self.policy.lets:
            return self.policy.lets[name].expression.type
        if name in self.policy.fields:
            return self.policy.fields[name].type
        symbol = BUILTIN_SYMBOLS.get(name) or self.policy.symbols.get(name)
        if symbol is None:
            raise LoweringError(f"unknown name `{name}`")
        return symbol.type

    def input_field(self, name: str, t: Type) -> Node:
        """A snapshot field: its input column, with the default the snapshot reader applies."""
        customer = name.startswith("customer.")
        table: Literal["invoices", "customers"] = "customers" if customer else "invoices"
        column = name.removeprefix("customer.")
        declared = self.policy.fields.get(name)
        if declared is not None:
            node: Node = Input(t, table, column)
            if declared.has_default and declared.default is not None:
                node = prim("coalesce", t, node, Const(t, declared.default))
        elif name in R.INVOICE_DEFAULTS:
            node = R.INVOICE_DEFAULTS[name](t)
        elif name in R.CUSTOMER_DEFAULTS:
            node = R.CUSTOMER_DEFAULTS[name](t)
        elif name in _INVOICE_INPUTS or name in _CUSTOMER_INPUTS:
            node = Input(t, table, column)
        else:
            raise LoweringError(f"`{name}` is not a field the program can read")
        self.note_inputs(node)
        return node

    def note_inputs(self, node: Node) -> None:
        """Record the input columns `node` reads, with their types (`Program.input_types`)."""
        for sub in _inputs(node):
            self.program.input_types[f"{sub.table}.{sub.column}"] = sub.type

    # -- expressions ------------------------------------------------------------------

    def expr(self, node: ast.Expr, scope: _Scope) -> Node:
        table = self.policy.table
        t = table.type_of(node)
        if not isinstance(node, ast.Call) or node.function not in (*R.HISTORY_FUNCTIONS, *R.AGGREGATE_FUNCTIONS):
            folded = self.folder.constant(node)
            if folded is not None:
                return Const(t, folded.value)
        match node:
            case ast.Name() | ast.Attribute():
                if node in table.enum_values:
                    return Const(t, table.enum_values[node])
                name = table.names[node]
                if name == "as_of":
                    return AsOf(DATE)
                return scope.ref(name)
            case ast.Not(operand=operand):
                return prim("not", BOOL, self.expr(operand, scope))
            case ast.BoolOp(op=op, left=left, right=right):
                return prim(op, BOOL, self.expr(left, scope), self.expr(right, scope))
            case ast.IsNull(operand=operand, negated=negated):
                test = prim("is_null", BOOL, self.expr(operand, scope))
                return prim("not", BOOL, test) if negated else test
            case ast.Compare(op=op, left=left, right=right):
                return self._compare(node, op, left, right, scope)
            case ast.Binary(op=op, left=left, right=right):
                lt, _rt = table.type_of(left).kind, table.type_of(right).kind
                name = "concat" if lt in ("string", "enum") else R.ARITHMETIC[op]
                return prim(name, t, self.expr(left, scope), self.expr(right, scope))
            case ast.Negate(operand=operand):
                return prim("neg", t, self.expr(operand, scope))
            case ast.ListExpr(items=items):
                return prim("list", t, *(self.expr(i, scope) for i in items))
            case ast.Call():
                return self._call(node, t, scope)
        raise LoweringError(f"cannot lower {type(node).__name__}")  # pragma: no cover

    def _compare(self, node: ast.Compare, op: str, left: ast.Expr, right: ast.Expr, scope: _Scope) -> Node:
        table = self.policy.table
        null_left = isinstance(left, ast.Literal) and left.kind == "null"
        null_right = isinstance(right, ast.Literal) and right.kind == "null"
        if op in ("==", "!=") and null_left != null_right:
            test = prim("is_null", BOOL, self.expr(right if null_left else left, scope))
            return prim("not", BOOL, test) if op == "!=" else test
        if op in ("==", "!=") and null_left and null_right:
            return Const(BOOL, op == "==")
        a, b = self.expr(left, scope), self.expr(right, scope)
        lt, rt = table.type_of(left), table.type_of(right)
        if op in ("<", "<=", ">", ">=") and lt.kind == "enum" and rt.kind == "enum":
            members = Const(Type("list", item=STRING), lt.members)
            # Null in, null out: the position of a null member is null (and the comparison false).
            a = prim("position", INT.optional(lt.nullable), a, members)
            b = prim("position", INT.optional(rt.nullable), b, members)
        return prim(R.COMPARISONS[op], BOOL, a, b)

    def _call(self, node: ast.Call, t: Type, scope: _Scope) -> Node:
        name = node.function
        if name in R.HISTORY_FUNCTIONS:
            action = self.policy.table.history_actions.get(node)
            if action is None:  # pragma: no cover - the checker resolves it
                raise LoweringError(f"`{name}` names no action")
            filters = tuple((k.name, self.expr(k.value, scope)) for k in node.keywords)
            return History(t, "count" if name == "count_of" else "since", action, filters)
        if name in R.AGGREGATE_FUNCTIONS:
            value, where = aggregate_parts(node)
            return Aggregate(
                t,
                R.AGGREGATE_KINDS[name],
                None if value is None else self.expr(value, self.invoice),
                None if where is None else self.expr(where, self.invoice),
            )
        lookup = self.policy.table.rate_tables.get(node)
        if name == "rate" and isinstance(lookup, RateTable):
            return lower_rate(lookup, self.expr(node.args[1], scope))
        if name not in R.FUNCTIONS:
            raise LoweringError(f"no lowering for the function `{name}`")
        return R.lower_call(name, [self.expr(a, scope) for a in node.args], t)

    # -- items -------------------------------------------------------------------------

    def condition(self, expression: Expression, scope: _Scope) -> Node:
        return self.expr(expression.node, scope)

    def items(self) -> None:
        ranks = {id(item): rank for rank, item in enumerate(self.policy.ordered())}
        self._scope_items(flow.scope_items(self.policy, "invoice"), self.invoice, ranks)
        self._scope_items(flow.scope_items(self.policy, "customer"), self.customer, ranks)

    def _scope_items(self, items: list[Rule | Ladder], scope: _Scope, ranks: dict[int, int]) -> None:
        conditions: dict[int, Node] = {}  # the lowered condition of each final rule so far
        for item in items:
            # its silencers come before it: evaluation order is priority order
            silenced = _any([conditions[id(final)] for final in flow.silencers(items, item)])
            rank = ranks[id(item)]
            if isinstance(item, Rule):
                # A condition that fails to evaluate does not hold: the rule does not fire and a
                # final one silences nothing (the row engine reports the error).
                condition = prim("holds", BOOL, self.condition(item.condition, scope))
                fires = prim("and", BOOL, condition, prim("not", BOOL, silenced))
                self.program.items.append(Item(item.id, scope.kind, fires))
                because = item.condition.snippet(item.condition.node.span)
                facts = self._facts([item.condition], (), scope)
                for index, call in enumerate(item.actions):
                    last = LastDone(DATE.optional(), item.id, call.name)
                    repeat = item.repeat.days if item.repeat is not None else None
                    held = flow.repeat_holds(R.nodes(), last, AsOf(DATE), repeat)
                    # A quiet day holds the action back; the rule still fires (a `final` one still silences).
                    mask = self._quiet((call,), prim("and", BOOL, Fired(BOOL, item.id), prim("not", BOOL, held)))
                    self._emit(scope, rank, item.id, None, index, call, mask, because, facts)
                if item.final:
                    conditions[id(item)] = condition
                continue
            self._ladder(item, scope, silenced, rank)

    def _ladder(self, ladder: Ladder, scope: _Scope, silenced: Node, rank: int) -> None:
        level = LadderLevel(INT, ladder.id)
        last = LadderLast(DATE.optional(), ladder.id)
        active: Node = prim("and", BOOL, prim("not", BOOL, silenced), self._owed(scope))
        if ladder.unless is not None:
            active = prim("and", BOOL, active, prim("not", BOOL, self.condition(ladder.unless, scope)))
        if ladder.min_gap is not None:
            gap = flow.gap_open(R.nodes(), last, self._waited(ladder, last), ladder.min_gap.days)
            active = prim("and", BOOL, active, gap)
        counted_by = R.ladder_counts(ladder)
        days = scope.ref(counted_by)
        chosen: Node = Const(INT.optional(), None)
        for step in ladder.steps:
            due = flow.step_due(R.nodes(), step.index, step.at, level, days, ladder.skip)
            if step.when is not None:
                due = prim("and", BOOL, due, self.condition(step.when, scope))
            chosen = prim("if", INT.optional(), due, integer(step.index), chosen)
        chosen = prim("if", INT.optional(), active, chosen, Const(INT.optional(), None))
        fires = prim("not", BOOL, prim("is_null", BOOL, Chosen(INT.optional(), ladder.id)))
        self.program.items.append(Item(ladder.id, scope.kind, fires, chosen))
        for step in ladder.steps:
            because = f"{counted_by} >= {step.at}" + (
                f" and {step.when.snippet(step.when.node.span)}" if step.when else ""
            )
            facts = self._facts([step.when] if step.when else [], R.ladder_facts(ladder), scope)
            # On a quiet day a step with a customer-facing action waits whole: it stays due.
            mask = self._quiet(step.actions, prim("eq", BOOL, Chosen(INT.optional(), ladder.id), integer(step.index)))
            for index, call in enumerate(step.actions):
                self._emit(scope, rank, ladder.id, step.index, index, call, mask, because, facts)

    def _waited(self, ladder: Ladder, last: Node) -> Node:
        """Days from the ladder's last step to as_of, in the days its `min_gap` counts (SPEC 7.4)."""
        return flow.waited(R.nodes(INT.optional()), ladder, self.policy.calendar, last, AsOf(DATE))

    def _quiet(self, calls: tuple[ActionCall, ...], mask: Node) -> Node:
        """`mask`, unless a quiet calendar's non-business `as_of` holds `calls` back."""
        held = flow.quiet_holds(R.nodes(BOOL), self.policy.calendar, calls, AsOf(DATE))
        return mask if held is None else prim("and", BOOL, mask, prim("not", BOOL, held))

    def _owed(self, scope: _Scope) -> Node:
        scope.ref("open_amount")
        return R.owed()

    def _facts(
        self, expressions: list[Expression], extra: tuple[str, ...], scope: _Scope
    ) -> tuple[tuple[str, Node], ...]:
        names: set[str] = set(extra)
        for expression in expressions:
            names.update(r for r in expression.references if r not in R.FACT_EXCLUDE and ":" not in r)
        return tuple((name, scope.ref(name)) for name in sorted(names))

    def _emit(
        self,
        scope: _Scope,
        rank: int,
        rule: str,
        step: int | None,
        index: int,
        call: ActionCall,
        mask: Node,
        because: str,
        facts: tuple[tuple[str, Node], ...],
    ) -> None:
        params, fails = self._params(call, scope)
        self.program.emits.append(
            Emit(scope.kind, rank, rule, step, call.name, index, mask, params, because, facts, fails)
        )

    def _params(self, call: ActionCall, scope: _Scope) -> tuple[tuple[Param, ...], Node]:
        """Parameters with defaults, the money `amount` of fees (`arrears.rules.credits`, as the row
        engine's `action_params`), and where computing them is an evaluation error."""
        values: dict[str, Node] = {}
        for name, param in call.params:
            values[name] = (
                self.expr(param.node, scope) if isinstance(param, Expression) else _const_param(call, name, param)
            )
        given = {name: values[name] for name, _ in call.params}
        always: set[str] = set()
        fails: Node = false()
        if call.signature.builtin and call.name in R.MONEY_ACTIONS:
            open_amount = scope.ref("open_amount") if scope.kind == "invoice" else None
            currency: Node = Const(STRING.optional(), None)
            if open_amount is not None:
                # The invoice's currency, when it has one (SPEC 7.1): blank text is none.
                code = scope.ref("currency")
                blank = prim("eq", BOOL, code, Const(STRING, ""))
                currency = prim("if", STRING.optional(), blank, Const(STRING.optional(), None), code)
                fails = credits.charge_fails(_Charges(scope, columns=False), open_amount)
            if call.rate_table is not None:
                values["table"] = Const(STRING, call.rate_table.name)
                values["plus"] = values.get("plus", Const(PERCENT, INTEREST_PLUS_DEFAULT))
                if open_amount is not None:
                    values["amount"], before = self._table_interest(
                        call.rate_table, values["plus"], open_amount, currency, scope
                    )
                    fails = prim("or", BOOL, fails, before)
            else:
                days = scope.ref("days_overdue") if open_amount is not None else Const(INT.optional(), None)
                charges = _Charges(scope, columns=call.name == "interest")
                amount = credits.charge_amount(charges, call.name, given, open_amount, days, currency)
                if amount is not None:
                    values["amount"] = amount
                    if "amount" in given:
                        always.add("amount")
            if open_amount is not None:
                values["currency"] = currency
        out = []
        for name, node in values.items():
            if isinstance(node, Const) and node.value is None and name not in always:
                continue
            out.append(Param(name, node, name in always))
        return tuple(out), fails

    def _table_interest(
        self, table: RateTable, plus: Node, open_amount: Node, currency: Node, scope: _Scope
    ) -> tuple[Node, Node]:
        """`interest(table=...)`'s amount, and where a day before the table makes it an error (SPEC 7.5)."""
        charges, due_date = _Charges(scope, columns=True), scope.ref("due_date")
        amount = rate_tables.table_interest(charges, table, plus, open_amount, due_date, AsOf(DATE), currency)
        return amount, rate_tables.before_table(charges, table, due_date, AsOf(DATE))


class _Charges:
    """The builder the charges (`arrears.rules.credits`, `rate_tables`) are lowered with: types
    inferred (`registry.nodes(None)`), and `round_minor` a choice among roundings by currency
    (`program.rates.money_in`).

    With `columns`, the amount and each rounding are columns of their own: interest divides to
    28 digits, which SQL spells at length, so it is computed once and the SQL stays shallow. A
    fee's amount stays in the parameter: a guard in it (a zero divisor in `amount=`) then counts
    only where the fee is issued, as a column's would count on every row.
    """

    def __init__(self, scope: _Scope, *, columns: bool) -> None:
        self.scope = scope
        self.columns = columns
        self.nodes = R.nodes(None)

    def __call__(self, op: str, *args: Node) -> Node:
        if op != "round_minor":
            return self.nodes(op, *args)
        amount, currency = args
        if not self.columns:
            return money_in(amount, currency)
        n = len([c for c in self.scope.columns if c.startswith("charge:")])
        self.scope.columns[f"charge:{n}"] = amount

        def define(what: str, node: Node) -> Node:
            self.scope.columns[f"charge:{n}:{what}"] = node
            return Ref(node.type, f"charge:{n}:{what}")

        return money_in(Ref(amount.type, f"charge:{n}"), currency, define)

    def const(self, value: Constant) -> Node:
        return self.nodes.const(value)


def _const_param(call: ActionCall, name: str, value: object) -> Node:
    signature = next((p for p in call.signature.params if p.name == name), None)
    t = signature.type if signature is not None else STRING
    return Const(t, value)  # type: ignore[arg-type]


def _any(conditions: list[Node]) -> Node:
    if not conditions:
        return false()
    out = conditions[0]
    for c in conditions[1:]:
        out = prim("or", BOOL, out, c)
    return out


def _inputs(node: Node) -> list[Input]:
    return [n for n in walk(node) if isinstance(n, Input)]


def lower(policy: Policy) -> Program:
    """The program of a checked policy; raises LoweringError for what it cannot express."""
    lowering = _Lowering(policy)
    lowering.program.calendar = policy.calendar
    lowering.program.currency = policy.currency
    for name in ("id", "customer_id", "due_date"):
        lowering.invoice.ref(name)
    lowering.customer.ref("customer.id")
    lowering.items()
    return lowering.program


__all__ = ["LoweringError", "Prim", "lower"]

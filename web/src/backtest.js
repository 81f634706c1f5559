// The backtest panel: the policy being edited replayed day by day over a ledger of the served
// folder (SPEC section 9), beside an optional baseline policy; its summary, and its HTML report
// opened in a new tab served by the workbench (the report runs no script: its CSP sandboxes it).

import { el, replace, show, count } from "./dom.js";

const MEASURES = [
  ["invoices", "Invoices open on a replayed day"],
  ["contacted_invoices", "Invoices contacted"],
  ["customers_contacted", "Customers contacted"],
  ["contacts", "Customer-facing actions"],
  ["reminders_to_on_time", "Reminders to invoices paid on time"],
  ["escalations_settled_within_14d", "Escalations settled within 14 days"],
  ["median_days_to_first_contact", "Median days from due date to first contact (late payers)"],
  ["fees", "Fees"],
  ["interest", "Interest"],
];

function money(value) {
  const entries = Object.entries(value || {});
  return entries.length ? entries.map(([currency, amount]) => `${currency} ${amount}`).join(", ") : "—";
}

function cell(key, summary) {
  if (!summary) return "";
  const value = summary[key];
  return key === "fees" || key === "interest" ? money(value) : show(value);
}

function byAction(summary) {
  return Object.entries((summary && summary.by_action) || {});
}

export function renderBacktestForm(container, { ledgers, policies, current, onRun }) {
  const pad = (n) => String(n).padStart(2, "0");
  const today = new Date();
  const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const ledger = el("select", { id: "bt-ledger" },
    el("option", { value: "" }, ledgers.length ? "— choose a ledger —" : "— no ledgers/ folder in the served folder —"),
    ledgers.map((name) => el("option", { value: name }, name)));
  const from = el("input", { id: "bt-from", type: "date", required: true, value: iso(new Date(today.getFullYear(), 0, 1)) });
  const to = el("input", { id: "bt-to", type: "date", required: true, value: iso(today) });
  const baseline = el("select", { id: "bt-baseline" },
    el("option", { value: "" }, "none"),
    policies.filter((p) => p.file !== current).map((p) => el("option", { value: p.file }, `${p.id} ${p.version ?? ""}`.trim())));
  const form = el("form", { class: "backtest-form", id: "backtest-form" },
    el("label", { for: "bt-ledger" }, "Ledger"), ledger,
    el("label", { for: "bt-from" }, "from"), from,
    el("label", { for: "bt-to" }, "to"), to,
    el("label", { for: "bt-baseline" }, "baseline"), baseline,
    el("button", { type: "submit", id: "bt-run" }, "Backtest"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onRun({ ledger: ledger.value, from: from.value, to: to.value, baseline: baseline.value || null });
  });
  const result = el("div", { id: "backtest-result", "aria-live": "polite" },
    el("p", { class: "muted" }, "Replays the policy as it is in the editor on every day of the period, over a ledger of the served folder's ",
      el("code", {}, "ledgers/"), " (SPEC section 9), beside a baseline policy if you choose one."));
  replace(container, form, result);
}

export function showBacktest(container, doc) {
  const base = doc.baseline ? doc.baseline.summary : null;
  const baseName = doc.baseline ? `${doc.baseline.policy.id ?? "baseline"} ${doc.baseline.policy.version ?? ""}`.trim() : null;
  const name = `${doc.policy.id} ${doc.policy.version ?? ""}`.trim();
  const head = el("tr", {}, el("th", { scope: "col" }, "Measure"), el("th", { scope: "col" }, name), base ? el("th", { scope: "col" }, baseName) : null);
  const rows = MEASURES.map(([key, label]) => el("tr", {},
    el("th", { scope: "row" }, label), el("td", { class: "num" }, cell(key, doc.summary)), base ? el("td", { class: "num" }, cell(key, base)) : null));
  const actions = [...new Set([...byAction(doc.summary), ...byAction(base)].map(([k]) => k))].sort();
  const actionRows = actions.map((action) => el("tr", {},
    el("th", { scope: "row" }, el("code", {}, action)),
    el("td", { class: "num" }, show((doc.summary.by_action || {})[action] ?? 0)),
    base ? el("td", { class: "num" }, show((base.by_action || {})[action] ?? 0)) : null));
  replace(container,
    el("p", { class: "plan-head" }, el("strong", {}, `Backtest ${doc.from} to ${doc.to}`), ` — ${count(doc.days, "day")} — ledger ${doc.ledger}`),
    el("p", {}, el("a", { href: doc.report, target: "_blank", rel: "noopener", id: "backtest-report" }, "Open the report"),
      el("span", { class: "muted" }, " (charts over time, in a new tab)")),
    el("table", { class: "grid backtest-summary" }, el("caption", {}, "Summary"), el("thead", {}, head), el("tbody", {}, rows)),
    actionRows.length
      ? el("table", { class: "grid backtest-actions" }, el("caption", {}, "Actions planned over the period"),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Action"), [...head.children].slice(1).map((th) => th.cloneNode(true)))), el("tbody", {}, actionRows))
      : el("p", { class: "empty" }, "No action planned over the period."));
}

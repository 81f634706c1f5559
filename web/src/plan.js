// The plan as a sortable, filterable table (one row per action), the notices per customer
// and the summary. Invoices are buttons: activating one asks for its explanation.

import { el, replace, show, count } from "./dom.js";

const COLUMNS = [
  { key: "customer", label: "Customer" },
  { key: "invoice", label: "Invoice" },
  { key: "action", label: "Action" },
  { key: "params", label: "Parameters" },
  { key: "source", label: "Rule / step" },
  { key: "because", label: "Because" },
];

function paramsText(params) {
  return Object.entries(params || {}).map(([k, v]) => `${k}=${show(v)}`).join(", ");
}

function rowsOf(plan) {
  return plan.actions.map((a, i) => ({
    order: i,
    customer: a.customer ?? "",
    invoice: a.invoice ?? "",
    action: a.action,
    params: paramsText(a.params),
    source: a.step === null || a.step === undefined ? a.rule : `${a.rule} step ${a.step}`,
    because: a.because ?? "",
  }));
}

export function createPlanView(container, { onExplain }) {
  let rows = [];
  let sort = { key: "order", dir: 1 };
  let filter = "";
  let tbody, countNode, headRow;

  function visible() {
    const needle = filter.trim().toLowerCase();
    const shown = needle
      ? rows.filter((r) => COLUMNS.some((c) => String(r[c.key]).toLowerCase().includes(needle)))
      : rows.slice();
    const { key, dir } = sort;
    shown.sort((a, b) => {
      const x = a[key], y = b[key];
      const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return c * dir || a.order - b.order;
    });
    return shown;
  }

  function renderBody() {
    const shown = visible();
    replace(tbody, shown.map((r) => el("tr", {},
      el("td", {}, r.customer),
      el("td", {}, r.invoice
        ? el("button", { type: "button", class: "link invoice", "data-invoice": r.invoice, title: `Explain ${r.invoice}`, onclick: () => onExplain(r.invoice) }, r.invoice)
        : el("span", { class: "muted" }, "(customer)")),
      el("td", {}, el("code", {}, r.action)),
      el("td", {}, r.params),
      el("td", {}, r.source),
      el("td", {}, r.because))));
    countNode.textContent = `${shown.length} of ${count(rows.length, "action")}`;
    for (const th of headRow.children) {
      const key = th.dataset.key;
      th.setAttribute("aria-sort", key === sort.key ? (sort.dir > 0 ? "ascending" : "descending") : "none");
    }
  }

  function sortBy(key) {
    sort = sort.key === key ? { key, dir: -sort.dir } : { key, dir: 1 };
    renderBody();
  }

  function notices(plan) {
    if (!plan.notices || !plan.notices.length) return el("p", { class: "muted" }, "No notices.");
    return el("table", { class: "grid notices" },
      el("caption", {}, "Notices per customer: what each customer receives"),
      el("thead", {}, el("tr", {}, ["Customer", "Channel", "Tone", "Invoices", "Total"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, plan.notices.map((n) => el("tr", {},
        el("td", {}, n.customer), el("td", {}, n.channel), el("td", {}, n.tone),
        el("td", {}, (n.invoices || []).join(", ")),
        el("td", { class: "num" }, `${n.currency ?? ""} ${n.total ?? ""}`.trim())))));
  }

  function errors(plan) {
    if (!plan.errors || !plan.errors.length) return null;
    return el("div", { class: "errors", role: "alert" },
      el("h3", {}, `Evaluation errors (${plan.errors.length})`),
      el("ul", {}, plan.errors.map((e) => el("li", {}, show(e.message ?? e)))));
  }

  function idle(plan, invoices) {
    const acted = new Set(plan.actions.map((a) => a.invoice));
    const quiet = invoices.filter((id) => !acted.has(id));
    if (!quiet.length) return null;
    return el("p", { class: "quiet" }, `Invoices with no action (${quiet.length}): `,
      quiet.slice(0, 50).map((id) => [el("button", { type: "button", class: "link invoice", "data-invoice": id, onclick: () => onExplain(id) }, id), " "]));
  }

  return {
    // `invoices`: the snapshot's invoice ids when the page knows them (an uploaded JSON file).
    show(plan, label, invoices = []) {
      rows = rowsOf(plan);
      const s = plan.summary || {};
      const filterInput = el("input", { type: "search", id: "plan-filter", placeholder: "Filter: invoice, customer, action…", "aria-label": "Filter the plan", value: filter });
      filterInput.addEventListener("input", () => { filter = filterInput.value; renderBody(); });
      headRow = el("tr", {}, COLUMNS.map((c) => el("th", { scope: "col", "data-key": c.key },
        el("button", { type: "button", class: "sort", onclick: () => sortBy(c.key) }, c.label))));
      tbody = el("tbody");
      countNode = el("span", { class: "muted", "aria-live": "polite" });
      replace(container,
        el("p", { class: "plan-head" }, el("strong", {}, `Plan as of ${plan.as_of}`), ` — ${label} — policy ${plan.policy?.id ?? ""} ${plan.policy?.version ?? ""}`),
        el("p", { class: "summary" }, `${count(s.invoices ?? 0, "invoice")}, ${s.invoices_with_actions ?? 0} with actions; ${count(s.actions ?? 0, "action")} for ${s.customers_with_actions ?? 0} of ${count(s.customers ?? 0, "customer")}; ${count(s.errors ?? 0, "error")}`),
        errors(plan),
        plan.actions.length ? null : el("p", { class: "empty" }, "No actions planned."),
        idle(plan, invoices),
        // With no action there is nothing to sort or filter: the table stays (hidden) for its id.
        el("div", { class: "filter-bar", hidden: !rows.length }, filterInput, countNode),
        el("table", { class: "grid plan", id: "plan-table", hidden: !rows.length }, el("caption", { class: "sr-only" }, "Planned actions"), el("thead", {}, headRow), tbody),
        notices(plan));
      renderBody();
    },
    rows: () => rows,
  };
}

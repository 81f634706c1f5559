// One invoice's explanation (`arrears explain --format json`): every rule and ladder step in
// evaluation order, fired or not, with the value of each sub-condition and of each name read.

import { el, replace, show } from "./dom.js";

const STATUS = { fired: "fired", held: "held back", "not-fired": "not fired", suppressed: "silenced", error: "error", skipped: "skipped" };

function truth(value) {
  if (value === true) return el("span", { class: "truth yes" }, "true");
  if (value === false) return el("span", { class: "truth no" }, "false");
  return el("span", { class: "truth other" }, show(value));
}

function tree(node) {
  const values = node.values
    ? el("span", { class: "values" }, Object.entries(node.values).map(([k, v]) => el("span", { class: "value" }, el("code", {}, k), " = ", show(v))))
    : null;
  return el("li", {}, truth(node.value), " ", el("code", {}, node.text), values,
    node.parts ? el("ul", { class: "tree" }, node.parts.map(tree)) : null);
}

function condition(label, node) {
  return el("div", { class: "condition" }, el("span", { class: "muted" }, label), el("ul", { class: "tree" }, tree(node)));
}

function stepState(step) {
  if (step.chosen) return "chosen";
  if (step.done) return "done";
  if (step.passed_over) return "passed over";
  return step.reached ? "due" : "not due";
}

function item(entry) {
  const head = el("h4", {},
    el("span", { class: `verdict verdict-${entry.status}` }, STATUS[entry.status] || entry.status), " ",
    `${entry.kind} `, el("code", {}, entry.id),
    el("span", { class: "muted" }, ` line ${entry.line}, priority ${entry.priority}${entry.final ? ", final" : ""}`));
  const parts = [head, el("p", { class: "reason" }, entry.reason)];
  if (entry.condition) parts.push(condition("when", entry.condition));
  if (entry.unless) parts.push(condition("unless", entry.unless));
  if (entry.steps) {
    parts.push(el("p", { class: "muted" }, `level reached: ${show(entry.level)}${entry.min_gap ? `, min_gap ${entry.min_gap}` : ""}`));
    parts.push(el("ol", { class: "steps", start: 0 }, entry.steps.map((s) => el("li", { class: `step step-${stepState(s).replace(" ", "-")}` },
      el("strong", {}, `step ${s.step} at ${s.at}: ${stepState(s)}`), " → ", el("code", {}, s.then),
      s.when ? condition("when", s.when) : null))));
  }
  for (const held of entry.held || []) parts.push(el("p", { class: "held" }, `held back ${held.action}: ${held.reason}`));
  for (const issued of entry.issued || []) {
    const params = Object.entries(issued.params || {}).map(([k, v]) => `${k}=${show(v)}`).join(", ");
    parts.push(el("p", { class: "issued" }, "→ ", el("code", {}, `${issued.action}(${params})`)));
  }
  return el("li", { class: `explained verdict-${entry.status}` }, parts);
}

function facts(title, object) {
  const entries = Object.entries(object || {});
  if (!entries.length) return null;
  return el("table", { class: "grid facts" }, el("caption", {}, title),
    el("tbody", {}, entries.map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, show(v))))));
}

export function showExplanation(container, doc) {
  const actions = doc.actions.length
    ? el("ul", {}, doc.actions.map((a) => {
      const params = Object.entries(a.params || {}).map(([k, v]) => `${k}=${show(v)}`).join(", ");
      return el("li", {}, el("code", {}, `${a.action}(${params})`), ` ← ${a.rule}${a.step === null || a.step === undefined ? "" : " step " + a.step}`);
    }))
    : el("p", {}, "No action for this invoice.");
  replace(container,
    el("h3", { id: "explain-title", tabindex: "-1" }, "Invoice ", el("code", {}, doc.invoice), ` (customer ${doc.customer}) `, el("span", { class: "nowrap" }, `as of ${doc.as_of}`)),
    el("section", { class: "plan-for" }, el("h4", {}, "Plan for this invoice"), actions),
    el("div", { class: "facts-row" }, facts("Facts", doc.facts), facts("Lets", doc.lets)),
    doc.customer_rules.length ? el("section", {}, el("h4", {}, `Customer ${doc.customer}`), el("ol", { class: "explained-list" }, doc.customer_rules.map(item))) : null,
    el("section", {}, el("h4", {}, "Rules and ladders, in evaluation order"), el("ol", { class: "explained-list" }, doc.rules.map(item))));
}

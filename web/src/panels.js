// The tests panel (the policy's `.test.yaml` run on the text being edited, with coverage)
// and the warnings panel (`check --strict`, each with its example invoice when there is one).

import { el, replace, show, count } from "./dom.js";

function where(d, goTo) {
  if (!d.line) return null;
  return el("button", { type: "button", class: "link", title: "Show in the editor", onclick: () => goTo(d.line, d.column) }, `line ${d.line}:${d.column ?? 1}`);
}

export function showTests(container, report, goTo) {
  if (!report.files.length) {
    replace(container, el("p", {}, "No test file names this policy. Put a ", el("code", {}, "NAME.test.yaml"), " beside it (SPEC section 5)."));
    return;
  }
  const cases = report.files.flatMap((f) => f.cases);
  const passed = cases.filter((c) => c.passed).length;
  const files = report.files.map((f) => el("section", { class: "test-file" },
    el("h4", { title: f.file }, f.file.split("/").pop()),
    f.diagnostics.length ? el("ul", { class: "errors" }, f.diagnostics.map((d) => el("li", {}, d.message, d.hint ? ` (${d.hint})` : ""))) : null,
    el("ul", { class: "cases" }, f.cases.map((c) => el("li", { class: c.passed ? "pass" : "fail" },
      el("span", { class: `badge ${c.passed ? "ok" : "bad"}` }, c.passed ? "PASS" : "FAIL"), ` ${c.name} `,
      el("span", { class: "muted" }, `(line ${c.line})`),
      c.error ? el("div", { class: "case-detail" }, `error: ${c.error}`) : null,
      c.missing.map((m) => el("div", { class: "case-detail" }, "expected, not planned: ", el("code", {}, show(m)))),
      c.unexpected.map((u) => el("div", { class: "case-detail" }, "planned, not expected: ", el("code", {}, show(u)))))))));
  const coverage = report.coverage.map((c) => el("section", { class: "coverage" },
    el("h4", {}, `Coverage ${c.percent}% (${c.covered} of ${count(c.total, "goal")}, ${count(c.cases, "case")})`),
    el("meter", { min: 0, max: 100, value: c.percent, "aria-label": "coverage percent" }),
    el("ul", { class: "by-kind" }, Object.entries(c.by_kind).map(([k, v]) => el("li", {}, `${k}: ${v.covered}/${v.total}`))),
    c.uncovered.length
      ? el("ul", { class: "uncovered" }, c.uncovered.map((g) => el("li", {}, where(g, goTo), " ", g.message)))
      : el("p", {}, "Everything is covered.")));
  // The coverage first: with thirty cases, the cases below are a scroll away.
  replace(container, el("p", { class: "summary" }, `${passed} passed, ${cases.length - passed} failed`), coverage, files);
}

export function showWarnings(container, diagnostics, { goTo, loadExample }) {
  if (!diagnostics.length) {
    replace(container, el("p", {}, "The proving lint found nothing to warn about."));
    return;
  }
  replace(container, el("ul", { class: "warnings" }, diagnostics.map((d, i) => el("li", { class: "warning" },
    el("p", {}, el("span", { class: "badge warn" }, d.code || "warning"), " ", where(d, goTo), " ", d.message),
    d.hint ? el("p", { class: "hint" }, d.hint) : null,
    d.example
      ? el("button", { type: "button", class: "example", onclick: () => loadExample(d, i) }, "Load the example into the snapshot panel")
      : null))));
}

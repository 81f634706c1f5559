// The workbench page: policies of the served folder, the editor with live diagnostics,
// the graph, a snapshot's plan and notices, explanations, tests and the proving lint.

import { call, result, allowEdit, ProblemError } from "./api.js";
import { $, el, replace, count, breakable } from "./dom.js";
import { createEditor } from "./editor.js";
import { drawGraph } from "./graph.js";
import { createPlanView } from "./plan.js";
import { showExplanation } from "./explain.js";
import { showTests, showWarnings } from "./panels.js";
import { renderBacktestForm, showBacktest } from "./backtest.js";

const TABS = ["graph", "plan", "explain", "tests", "warnings", "backtest"];
const STRICT_DELAY = 1200;

const state = {
  file: null, // the served policy file being edited
  base: null, // digest of its text on disk when opened or saved
  saved: "", // that text
  snapshot: null, // {name} of the served folder, or {upload: {name, text}}
  uploads: new Map(), // select value -> upload
  invoice: null, // the invoice last explained
  drafts: new Map(), // file -> unsaved text, kept while another file is open
  compiled: false,
  seq: { check: 0, strict: 0, run: 0, explain: 0, picture: 0, tests: 0, backtest: 0 },
  session: null, // the last /v1/workbench/session: policies and ledgers for the backtest form
};
let strictTimer = null;

function status(text, kind = "") {
  const node = $("status");
  node.className = "status " + kind;
  node.textContent = text;
}

function problemList(error) {
  const diagnostics = error instanceof ProblemError ? error.diagnostics : [];
  return el("div", { class: "errors", role: "alert" },
    el("p", {}, el("strong", {}, error.message)),
    diagnostics.length ? el("ul", {}, diagnostics.map((d) => el("li", {},
      d.line ? `${d.file ?? ""}:${d.line}:${d.column ?? 1}: ` : "", d.message, d.hint ? el("div", { class: "hint" }, d.hint) : null))) : null);
}

// -- tabs -----------------------------------------------------------------------------------

function selectTab(name, focus = true) {
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const on = tab === name;
    button.setAttribute("aria-selected", String(on));
    button.tabIndex = on ? 0 : -1;
    $(`panel-${tab}`).hidden = !on;
  }
  if (focus) $(`tab-${name}`).focus();
  if (name === "tests") runTests();
}

function setupTabs() {
  TABS.forEach((name, i) => {
    const tab = $(`tab-${name}`);
    tab.addEventListener("click", () => selectTab(name));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) {
        event.preventDefault();
        selectTab(TABS[(i + step + TABS.length) % TABS.length]);
      } else if (event.key === "Home" || event.key === "End") {
        event.preventDefault();
        selectTab(event.key === "Home" ? TABS[0] : TABS[TABS.length - 1]);
      }
    });
  });
}

// -- policies -------------------------------------------------------------------------------

function renderPolicies(session) {
  replace($("policy-list"), session.policies.map((p) => el("li", {},
    el("button", { type: "button", class: "policy", "data-file": p.file, "aria-current": p.file === state.file ? "true" : null, onclick: () => openFile(p.file) },
      el("span", { class: "policy-id" }, breakable(p.id)),
      el("span", { class: "policy-meta" }, `version ${p.version ?? "—"} · ${count(p.rules, "rule")}, ${count(p.ladders, "ladder")}`),
      p.stale ? el("span", { class: "badge warn" }, "stale: newer edit does not load") : null))));
  const errors = session.errors || [];
  $("load-errors-title").hidden = errors.length === 0;
  replace($("load-errors"), errors.map((e) => el("li", {},
    el("button", { type: "button", class: "policy broken", "data-file": e.file, title: e.file, onclick: () => openFile(e.file) },
      el("span", { class: "policy-id" }, breakable(e.file.split("/").pop())),
      el("span", { class: "policy-meta" }, e.serving ? "older version still serving" : "not serving")),
    el("ul", { class: "load-diagnostics" }, e.diagnostics.map((d) => el("li", {}, `${d.line ?? 1}:${d.column ?? 1} ${d.message}`))))));
}

async function refreshSession() {
  const session = await call("GET", "/v1/workbench/session");
  state.session = session;
  renderPolicies(session);
  renderSnapshots(session.snapshots);
  return session;
}

// Switching policies never loses an edit: unsaved texts are kept per file for the session.
async function openFile(file) {
  if (state.file) {
    if (editor.text() !== state.saved) state.drafts.set(state.file, editor.text());
    else state.drafts.delete(state.file);
  }
  try {
    const source = await call("GET", `/v1/workbench/source?file=${encodeURIComponent(file)}`);
    state.file = source.file;
    state.base = source.digest;
    state.saved = source.text;
    const draft = state.drafts.get(source.file);
    const current = $("current-policy");
    current.textContent = source.file.split("/").pop();
    current.title = source.file;
    for (const b of document.querySelectorAll(".policy")) b.setAttribute("aria-current", String(b.dataset.file === file));
    resetPanels();
    editor.load(draft ?? source.text);
    markModified();
    status(draft === undefined ? `opened ${source.file}` : `opened ${source.file} with your unsaved edit`);
  } catch (error) {
    status(error.message, "bad");
  }
}

// Another file is open: what the panels showed was about the other policy. They fill again
// as soon as this text compiles (the plan and the explanation on the same snapshot).
function resetPanels() {
  for (const key of Object.keys(state.seq)) state.seq[key]++;
  clearTimeout(strictTimer);
  state.compiled = false;
  renderProblems([]);
  replace($("panel-graph"), el("p", { class: "muted" }, "Checking the policy…"));
  if (state.snapshot) replace($("panel-plan"), el("p", { class: "muted" }, `Running the policy on ${state.snapshot.label}…`));
  replace($("panel-explain"), el("p", { class: "muted" }, state.invoice ? "Explaining…" : "Click an invoice in the plan to see why it gets what it gets."));
  replace($("panel-tests"), el("p", { class: "muted" }, "The policy's .test.yaml files run here on the text being edited."));
  replace($("panel-warnings"), el("p", { class: "muted" }, "The proving lint (check --strict) runs when the policy compiles and you stop typing."));
  $("warning-count").textContent = "";
  backtestForm();
}

// The text does not compile: the graph, plan and explanation still show the last text that
// did, and say so (a file that never compiled has no graph at all).
function markStale() {
  for (const name of ["graph", "plan", "explain"]) {
    const panel = $(`panel-${name}`);
    panel.querySelector(".panel-note")?.remove();
    const shows = { graph: "svg.graph", plan: "#plan-table", explain: "#explain-title" }[name];
    if (panel.querySelector(shows)) {
      panel.prepend(el("p", { class: "panel-note", role: "note" }, "The text does not compile (see Problems): this shows the last version that did."));
    } else if (name === "graph") {
      replace(panel, el("p", { class: "muted" }, "The graph appears when the policy compiles: see Problems under the editor."));
    } else if (name === "plan" && state.snapshot) {
      replace(panel, el("p", { class: "muted" }, "The plan appears when the policy compiles: see Problems under the editor."));
    }
  }
}

function markModified() {
  $("modified").hidden = editor.text() === state.saved;
}

async function save() {
  if (!allowEdit || !state.file) return;
  try {
    const answer = await call("PUT", `/v1/workbench/source?file=${encodeURIComponent(state.file)}`, { text: editor.text(), base: state.base });
    state.base = answer.digest;
    state.saved = editor.text();
    state.drafts.delete(state.file);
    markModified();
    renderPolicies(answer);
    const broken = answer.diagnostics.length;
    status(broken ? `saved ${answer.file}; it does not load, the last good version keeps serving` : `saved ${answer.file}; reloaded`, broken ? "warn" : "ok");
  } catch (error) {
    status(`not saved: ${error.message}`, "bad");
  }
}

// -- checking ---------------------------------------------------------------------------------

function renderProblems(diagnostics) {
  $("problem-count").textContent = diagnostics.length ? String(diagnostics.length) : "";
  if (!diagnostics.length) {
    replace($("problem-list"), el("li", { class: "muted" }, state.compiled ? "No problems: the policy compiles." : "Checking…"));
    return;
  }
  replace($("problem-list"), diagnostics.map((d) => el("li", { class: `problem ${d.severity}` },
    el("button", { type: "button", class: "link", onclick: () => editor.goTo(d.line, d.column) }, `${d.line}:${d.column}`),
    " ", el("span", { class: `badge ${d.severity === "error" ? "bad" : "warn"}` }, d.severity), " ", d.message,
    d.hint ? el("div", { class: "hint" }, d.hint) : null)));
}

async function check(text) {
  const seq = ++state.seq.check;
  clearTimeout(strictTimer);
  let report;
  try {
    report = await call("POST", "/v1/check?lint=false", { text, file: state.file || "<policy>" });
  } catch (error) {
    status(`check failed: ${error.message}`, "bad");
    return [];
  }
  if (seq !== state.seq.check) return [];
  state.compiled = report.ok;
  renderProblems(report.diagnostics);
  if (report.ok) {
    status(`${report.policy.id}: compiles (${count(report.policy.rules, "rule")}, ${count(report.policy.ladders, "ladder")})`, "ok");
    afterCompile(text);
  } else {
    status(count(report.diagnostics.length, "problem"), "bad");
    markStale();
  }
  return report.diagnostics;
}

// Everything below runs on the text that compiled, not on whatever the editor holds by the time.
function afterCompile(text) {
  drawPicture(text);
  if (state.snapshot) run(false, text);
  if (state.invoice && state.snapshot) explainInvoice(state.invoice, false, text);
  if (!$("panel-tests").hidden) runTests();
  strictTimer = setTimeout(() => strict(text), STRICT_DELAY);
}

async function strict(text) {
  const seq = ++state.seq.strict;
  replace($("panel-warnings"), el("p", { class: "muted" }, "Proving… (check --strict)"));
  try {
    const report = await call("POST", "/v1/check", { text, file: state.file || "<policy>" });
    if (seq !== state.seq.strict || text !== editor.text()) return;
    const warnings = report.diagnostics;
    $("warning-count").textContent = warnings.length ? String(warnings.length) : "";
    showWarnings($("panel-warnings"), warnings, { goTo: editor.goTo, loadExample });
    if (warnings.length) {
      editor.show(warnings);
      renderProblems(warnings);
    }
  } catch (error) {
    if (seq === state.seq.strict) replace($("panel-warnings"), problemList(error));
  }
}

async function drawPicture(text) {
  const seq = ++state.seq.picture;
  try {
    const picture = await result("POST", "/v1/workbench/picture", { text, file: state.file || "<policy>" });
    if (seq === state.seq.picture) drawGraph($("panel-graph"), picture);
  } catch (error) {
    if (seq === state.seq.picture) replace($("panel-graph"), problemList(error));
  }
}

// -- snapshots, plan, explanation -------------------------------------------------------------

function renderSnapshots(names) {
  const select = $("snapshot");
  const current = select.value;
  replace(select,
    el("option", { value: "" }, names.length ? "— choose a snapshot —" : "— no snapshots/ folder: upload one —"),
    names.length ? el("optgroup", { label: "Served folder (snapshots/)" }, names.map((n) => el("option", { value: `served:${n}` }, n))) : null,
    state.uploads.size ? el("optgroup", { label: "Uploaded" }, [...state.uploads.keys()].map((k) => el("option", { value: k }, k.slice(7)))) : null);
  select.value = [...select.options].some((o) => o.value === current) ? current : "";
}

function chooseSnapshot(value) {
  state.invoice = null;
  if (!value) {
    state.snapshot = null;
    return;
  }
  state.snapshot = value.startsWith("served:") ? { snapshot: value.slice(7), label: value.slice(7) } : { upload: state.uploads.get(value), label: `uploaded ${value.slice(7)}` };
  run(true);
}

function addUpload(name, text) {
  const key = `upload:${name}`;
  state.uploads.set(key, { name, text });
  renderSnapshots([...$("snapshot").querySelectorAll("option")].filter((o) => o.value.startsWith("served:")).map((o) => o.value.slice(7)));
  $("snapshot").value = key;
  chooseSnapshot(key);
}

function loadExample(warning, index) {
  const name = `example-${index + 1}-${warning.code || "warning"}.json`;
  addUpload(name, JSON.stringify(warning.example, null, 2));
  status(`loaded the example of warning ${index + 1} as ${name}`, "ok");
  $("tab-plan").focus(); // the button pressed is in the panel now hidden: keep the keyboard's place
}

function request(extra, text) {
  const body = { text: text ?? editor.text(), file: state.file || "<policy>", as_of: $("as-of").value || null, ...extra };
  if (state.snapshot.upload) body.upload = state.snapshot.upload;
  else body.snapshot = state.snapshot.snapshot;
  return body;
}

// The invoice ids of an uploaded JSON snapshot (the server's files are read by the server only).
function knownInvoices(snapshot) {
  if (!snapshot.upload || !/\.json$/i.test(snapshot.upload.name)) return [];
  try {
    const data = JSON.parse(snapshot.upload.text);
    return (data.invoices || []).map((row) => row && row.id).filter((id) => typeof id === "string");
  } catch {
    return [];
  }
}

async function run(show, text) {
  if (!state.snapshot) {
    status("choose or upload a snapshot first", "warn");
    if (show) $("snapshot").focus();
    return;
  }
  const seq = ++state.seq.run;
  if (show) selectTab("plan", false);
  if (!$("plan-table")) replace($("panel-plan"), el("p", { class: "muted" }, `Running the policy on ${state.snapshot.label}…`));
  try {
    const plan = await result("POST", "/v1/workbench/run", request({}, text));
    if (seq !== state.seq.run) return;
    planView.show(plan, state.snapshot.label, knownInvoices(state.snapshot));
    status(`plan: ${count(plan.summary.actions, "action")} for ${count(plan.summary.invoices, "invoice")}`, "ok");
  } catch (error) {
    if (seq === state.seq.run) replace($("panel-plan"), el("h3", {}, "No plan"), problemList(error));
  }
}

async function explainInvoice(invoice, show = true, text = undefined) {
  state.invoice = invoice;
  const seq = ++state.seq.explain;
  if (show) selectTab("explain", false);
  try {
    const doc = await result("POST", "/v1/workbench/explain", request({ invoice }, text));
    if (seq !== state.seq.explain) return;
    showExplanation($("panel-explain"), doc);
    if (show) $("explain-title").focus();
  } catch (error) {
    if (seq === state.seq.explain) replace($("panel-explain"), problemList(error));
  }
}

async function runTests() {
  if (!state.file) return;
  const seq = ++state.seq.tests;
  const panel = $("panel-tests");
  if (!panel.firstChild) panel.appendChild(el("p", { class: "muted" }, "Running the tests…"));
  try {
    const report = await result("POST", "/v1/workbench/tests", { text: editor.text(), file: state.file });
    if (seq === state.seq.tests) showTests(panel, report, editor.goTo);
  } catch (error) {
    if (seq === state.seq.tests) replace(panel, problemList(error));
  }
}

// -- backtest ---------------------------------------------------------------------------------

function backtestForm() {
  if (!state.session) return;
  renderBacktestForm($("panel-backtest"), { ledgers: state.session.ledgers || [], policies: state.session.policies, current: state.file, onRun: backtest });
}

async function backtest({ ledger, from, to, baseline }) {
  const out = $("backtest-result");
  if (!ledger) {
    replace(out, el("p", { class: "errors", role: "alert" }, "Choose a ledger (a file of the served folder's ledgers/)."));
    $("bt-ledger").focus();
    return;
  }
  const seq = ++state.seq.backtest;
  replace(out, el("p", { class: "muted" }, `Replaying ${from} to ${to} over ${ledger}…`));
  status("backtest running…");
  try {
    const doc = await result("POST", "/v1/workbench/backtest", { text: editor.text(), file: state.file || "<policy>", ledger, from, to, baseline });
    if (seq !== state.seq.backtest) return;
    showBacktest(out, doc);
    status(`backtest: ${count(doc.days, "day")}, ${count(doc.actions, "action")}`, "ok");
  } catch (error) {
    if (seq === state.seq.backtest) {
      replace(out, el("h3", {}, "No backtest"), problemList(error));
      status(`backtest: ${error.message}`, "bad");
    }
  }
}

// -- keys ---------------------------------------------------------------------------------------

function setupKeys() {
  document.addEventListener("keydown", (event) => {
    // A key the editor's own keymap handled (Mod-s in the editor) is not handled twice: two saves
    // sent with the same base would race, and the second would be refused as an edit conflict.
    if (event.defaultPrevented) return;
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      save();
    } else if (mod && event.key === "Enter") {
      event.preventDefault();
      run(true);
    } else if (event.altKey && !mod && /^Digit[1-6]$/.test(event.code)) {
      event.preventDefault();
      selectTab(TABS[Number(event.code.slice(5)) - 1]);
    } else if (event.altKey && !mod && event.code === "KeyE") {
      event.preventDefault();
      editor.focus();
    } else if (event.altKey && !mod && event.code === "KeyP") {
      event.preventDefault();
      (document.querySelector(".policy[aria-current='true']") || document.querySelector(".policy"))?.focus();
    } else if (event.altKey && !mod && event.code === "KeyS") {
      event.preventDefault();
      $("snapshot").focus();
    }
  });
  $("help-toggle").addEventListener("click", () => {
    const help = $("help");
    help.hidden = !help.hidden;
    $("help-toggle").setAttribute("aria-expanded", String(!help.hidden));
  });
}

// -- start ------------------------------------------------------------------------------------

const editor = createEditor($("editor"), {
  check,
  onChange: () => { markModified(); state.compiled = false; },
  onSave: save,
  onRun: () => run(true),
});
const planView = createPlanView($("panel-plan"), { onExplain: (invoice) => explainInvoice(invoice) });

async function start() {
  setupTabs();
  setupKeys();
  const saveButton = $("save");
  saveButton.disabled = !allowEdit;
  saveButton.title = allowEdit ? "Save the file (Ctrl+S)" : "Read-only: start the service with --allow-edit to save";
  saveButton.addEventListener("click", save);
  $("snapshot").addEventListener("change", (event) => chooseSnapshot(event.target.value));
  $("snapshot-form").addEventListener("submit", (event) => { event.preventDefault(); run(true); });
  $("as-of").addEventListener("change", () => state.snapshot && run(false));
  $("upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    // An invoices table has no date of its own: the run is as of today unless you say otherwise.
    if (/\.csv$/i.test(file.name) && !$("as-of").value) {
      const today = new Date();
      const pad = (n) => String(n).padStart(2, "0");
      $("as-of").value = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
      status(`${file.name} has no as-of date: running it as of today (change it beside the snapshot)`, "warn");
    }
    addUpload(file.name, await file.text());
  });
  renderProblems([]);
  replace($("panel-tests"), el("p", { class: "muted" }, "The policy's .test.yaml files run here on the text being edited."));
  try {
    const session = await refreshSession();
    const wanted = new URLSearchParams(location.hash.slice(1)).get("file");
    const first = session.policies.find((p) => p.file === wanted) || session.policies[0] || session.errors[0];
    if (first) await openFile(first.file);
    else status("no policy files in the served folder", "warn");
  } catch (error) {
    status(`cannot reach the service: ${error.message}`, "bad");
  }
}

start();

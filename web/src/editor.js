// The policy editor: CodeMirror 6 with YAML highlighting, and the diagnostics of
// `arrears check` (asked for while typing, debounced) at their line and column.

import { EditorState, Compartment } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { syntaxHighlighting, defaultHighlightStyle, indentOnInput, bracketMatching } from "@codemirror/language";
import { yaml } from "@codemirror/lang-yaml";
import { linter, lintGutter, lintKeymap, setDiagnostics, forceLinting } from "@codemirror/lint";

// A diagnostic's 1-based line and column (end exclusive) as document offsets, kept inside the text.
export function span(doc, d) {
  const lineOf = (n) => doc.line(Math.min(Math.max(n || 1, 1), doc.lines));
  const start = lineOf(d.line);
  const from = Math.min(start.from + Math.max((d.column || 1) - 1, 0), start.to);
  let to = from;
  if (d.end_line) {
    const end = lineOf(d.end_line);
    to = Math.min(end.from + Math.max((d.end_column || 1) - 1, 0), end.to);
  }
  if (to <= from) to = Math.min(from + 1, start.to);
  return { from, to: Math.max(to, from) };
}

export function toCodeMirror(doc, diagnostics) {
  return diagnostics.map((d) => {
    const { from, to } = span(doc, d);
    const hint = d.hint ? `\n${d.hint}` : "";
    return {
      from, to,
      severity: d.severity === "warning" ? "warning" : d.severity === "error" ? "error" : "info",
      source: d.code || "arrears",
      message: `${d.message}${hint}`,
    };
  });
}

// Typing over a selection that spans lines lets the browser's own editing delete the line
// elements and insert a styled span, a style attribute the page's CSP refuses (and logs).
// Such an insertion is made here as a CodeMirror change instead; plain typing is untouched.
const replaceSelectionAsChange = EditorView.domEventHandlers({
  beforeinput(event, view) {
    const range = view.state.selection.main;
    if (event.inputType !== "insertText" || range.empty || typeof event.data !== "string") return false;
    event.preventDefault();
    view.dispatch(view.state.replaceSelection(event.data), { scrollIntoView: true, userEvent: "input.type" });
    return true;
  },
});

// `check(text)` answers {diagnostics} for the text; `onChange()` after every edit.
export function createEditor(parent, { check, onChange, onSave, onRun }) {
  const editable = new Compartment();
  const keys = [
    { key: "Mod-s", preventDefault: true, run: () => { onSave(); return true; } },
    { key: "Mod-Enter", preventDefault: true, run: () => { onRun(); return true; } },
  ];
  // CodeMirror writes its theme into a <style> element; the page's CSP admits it by this nonce only.
  const nonce = document.querySelector('meta[name="arrears-style-nonce"]').content;
  const extensions = [
    EditorView.cspNonce.of(nonce),
    lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(),
    bracketMatching(), highlightActiveLine(), syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    yaml(), lintGutter(), EditorView.lineWrapping, replaceSelectionAsChange,
    linter(async (view) => toCodeMirror(view.state.doc, await check(view.state.doc.toString())), { delay: 350 }),
    keymap.of([...keys, ...defaultKeymap, ...historyKeymap, ...lintKeymap]),
    EditorView.updateListener.of((update) => { if (update.docChanged) onChange(); }),
    EditorView.contentAttributes.of({ "aria-label": "Policy YAML", "aria-multiline": "true" }),
    editable.of(EditorView.editable.of(true)),
  ];
  const view = new EditorView({ parent, state: EditorState.create({ doc: "", extensions }) });
  return {
    view,
    text: () => view.state.doc.toString(),
    load(text) {
      view.setState(EditorState.create({ doc: text, extensions }));
      forceLinting(view);
    },
    // Lint warnings arrive later than the check; they are shown until the next edit re-checks.
    show(diagnostics) {
      view.dispatch(setDiagnostics(view.state, toCodeMirror(view.state.doc, diagnostics)));
    },
    goTo(line, column) {
      const { from } = span(view.state.doc, { line, column });
      view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
      view.focus();
    },
    focus: () => view.focus(),
  };
}

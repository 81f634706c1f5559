// The policy drawn as SVG from `/v1/workbench/picture`: rules top to bottom in evaluation
// order (priority first), each with the actions it issues; each ladder's steps left to right
// in the order they come due. Fill colours are the tones `arrears graph --format dot` uses;
// final rules have a heavy dark-red border and say what they silence.

import { el, svg, replace } from "./dom.js";

const CHAR = 6.7; // px per character at 12px: enough to cut long text with an ellipsis
const BOLD = 7.6;
const LINE = 15;

function cut(text, width, bold) {
  const room = Math.max(Math.floor((width - 16) / (bold ? BOLD : CHAR)), 4);
  return text.length > room ? text.slice(0, room - 1) + "…" : text;
}

function box({ x, y, w, h, fill, final, lines, title, label }) {
  const group = svg("g", { class: "node" + (final ? " final" : ""), role: "listitem", "aria-label": label });
  group.appendChild(svg("title", {}, title));
  group.appendChild(svg("rect", { x, y, width: w, height: h, rx: 6, fill, class: "box" }));
  lines.forEach((line, i) => {
    group.appendChild(svg("text", { x: x + 8, y: y + 17 + i * LINE, class: line.cls || "" }, cut(line.text, w, line.cls === "strong")));
  });
  return group;
}

function arrow(x1, y1, x2, y2, dashed) {
  return svg("line", { x1, y1, x2, y2, class: "edge" + (dashed ? " dashed" : ""), "marker-end": "url(#arrow)" });
}

function colourOf(tones) {
  const map = {};
  for (const t of tones) map[t.tone] = t.colour;
  return (tone) => map[tone] || "#ffffff";
}

function defs() {
  return svg("defs", {},
    svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
      svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" })));
}

function when(at) {
  if (at < 0) return `${-at} day${at === -1 ? "" : "s"} before due`;
  if (at === 0) return "on the due date";
  return `${at} day${at === 1 ? "" : "s"} overdue`;
}

function rulesPart(picture, colour, top, room) {
  const parts = [];
  let y = top;
  const ruleW = Math.max(Math.round(room * 0.55), 260), actionX = ruleW + 36, actionW = Math.max(room - actionX - 4, 200);
  if (picture.rules.length) parts.push(svg("text", { x: 4, y: y + 12, class: "heading" }, "Rules, in evaluation order (highest priority first)"));
  y += 24;
  for (const rule of picture.rules) {
    const lines = [
      { text: `${rule.position + 1}. ${rule.id}   priority ${rule.priority}${rule.scope !== "invoice" ? ", " + rule.scope : ""}`, cls: "strong" },
      { text: `when ${rule.condition}` },
    ];
    if (rule.final) lines.push({ text: rule.silences.length ? `FINAL: silences ${rule.silences.join(", ")}` : "FINAL", cls: "final-mark" });
    const h = Math.max(lines.length, rule.actions.length) * LINE + 12;
    const title = `${rule.id} (line ${rule.line}): when ${rule.condition}\nreads: ${rule.reads.join(", ") || "nothing"}` +
      (rule.final ? `\nfinal: silences ${rule.silences.join(", ") || "nothing"}` : "");
    parts.push(box({ x: 4, y, w: ruleW, h, fill: colour(rule.tone), final: rule.final, lines, title, label: `rule ${rule.id}` }));
    rule.actions.forEach((action, i) => {
      const ay = y + i * (LINE + 6);
      parts.push(arrow(4 + ruleW, y + h / 2, actionX, ay + 11));
      parts.push(box({ x: actionX, y: ay, w: actionW, h: LINE + 6, fill: colour(action.tone), lines: [{ text: action.text }], title: action.text, label: `action ${action.text}` }));
    });
    y += Math.max(h, rule.actions.length * (LINE + 6)) + 12;
  }
  return { parts, bottom: y, right: actionX + actionW + 8 };
}

// Steps run left to right in the order they come due; a ladder longer than the panel is wide
// carries on in the next row, as text does, joined by an elbow arrow.
function laddersPart(picture, colour, top, room) {
  const parts = [];
  let y = top, right = 0;
  const stepW = 170, gap = 20, rowGap = 26;
  const perRow = Math.max(Math.floor((room + gap) / (stepW + gap)), 1);
  for (const ladder of picture.ladders) {
    const head = [`Ladder ${ladder.id}`, `priority ${ladder.priority}`];
    if (ladder.unless) head.push(`unless ${ladder.unless}`);
    if (ladder.min_gap) head.push(`min_gap ${ladder.min_gap}`);
    if (!ladder.skip) head.push("skip: false");
    const heading = svg("text", { x: 4, y: y + 12, class: "heading" }, cut(head.join(" · "), room * 1.1));
    heading.appendChild(svg("title", {}, head.join(" · ")));
    parts.push(heading);
    y += 22;
    const tallest = Math.max(...ladder.steps.map((s) => 2 + (s.when ? 1 : 0) + s.actions.length), 3);
    const h = tallest * LINE + 10;
    let previous = null;
    ladder.steps.forEach((step, i) => {
      const x = 4 + (i % perRow) * (stepW + gap);
      const top = y + Math.floor(i / perRow) * (h + rowGap);
      const lines = [{ text: `step ${step.index}`, cls: "strong" }, { text: when(step.at), cls: "strong" }];
      if (step.when) lines.push({ text: `when ${step.when}` });
      for (const action of step.actions) lines.push({ text: action.text });
      const title = `step ${step.index} of ${ladder.id} (line ${step.line}): at ${step.at}` +
        (step.when ? ` when ${step.when}` : "") + "\n" + step.actions.map((a) => a.text).join("\n");
      parts.push(box({ x, y: top, w: stepW, h, fill: colour(step.tone), lines, title, label: `${ladder.id} step ${step.index} at ${step.at}` }));
      if (previous && previous.top === top) {
        parts.push(arrow(previous.x + stepW, top + h / 2, x, top + h / 2));
      } else if (previous) {
        const middle = previous.top + h + rowGap / 2;
        parts.push(svg("path", {
          d: `M ${previous.x + stepW / 2} ${previous.top + h} V ${middle} H ${x + stepW / 2} V ${top}`,
          class: "edge", fill: "none", "marker-end": "url(#arrow)",
        }));
      }
      previous = { x, top };
      right = Math.max(right, x + stepW + 8);
    });
    const rows = Math.ceil(ladder.steps.length / perRow);
    y += rows * h + (rows - 1) * rowGap + 20;
  }
  return { parts, bottom: y, right };
}

function swatch(colour) {
  const span = el("span", { class: "swatch" });
  span.style.backgroundColor = colour; // CSSOM, not a style attribute: the CSP allows it
  return span;
}

export function drawGraph(container, picture) {
  const colour = colourOf(picture.tones);
  const room = Math.max(container.clientWidth - 28, 520);
  const rules = rulesPart(picture, colour, 4, room);
  const ladders = laddersPart(picture, colour, rules.bottom + 8, room);
  const width = Math.max(rules.right, ladders.right, room);
  const height = ladders.bottom + 4;
  const drawing = svg("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, class: "graph", role: "img",
    "aria-label": `Graph of policy ${picture.policy.id}: ${picture.rules.length} rules, ${picture.ladders.length} ladders`,
  }, defs(), svg("g", { role: "list" }, rules.parts, ladders.parts));
  const legend = el("ul", { class: "legend", "aria-label": "Tones" },
    picture.tones.map((t) => el("li", {}, swatch(t.colour), t.tone)),
    el("li", {}, el("span", { class: "swatch final-swatch" }), "final rule"));
  const lets = picture.lets.length
    ? el("details", { class: "lets" }, el("summary", {}, `Lets (${picture.lets.length})`),
      el("ul", {}, picture.lets.map((l) => el("li", {}, el("code", {}, `${l.name} = ${l.text}`)))))
    : null;
  const title = el("p", { class: "graph-title" },
    el("strong", {}, picture.policy.id), ` version ${picture.policy.version ?? "—"}`);
  replace(container, title, legend, el("div", { class: "graph-scroll" }, drawing), lets);
}

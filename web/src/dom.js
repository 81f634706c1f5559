// Building DOM from data. Every value from a policy or a snapshot goes in as text
// (text nodes, textContent, attributes set one by one): nothing is ever parsed as HTML.

const SVG = "http://www.w3.org/2000/svg";

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
  return node;
}

function setAttributes(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  return node;
}

export function el(tag, attrs, ...children) {
  return append(setAttributes(document.createElement(tag), attrs), children);
}

export function svg(tag, attrs, ...children) {
  return append(setAttributes(document.createElementNS(SVG, tag), attrs), children);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function replace(node, ...children) {
  return append(clear(node), children);
}

export const $ = (id) => document.getElementById(id);

// A value of a plan or an explanation shown as text: lists joined, objects as JSON.
export function show(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return "[" + value.map(show).join(", ") + "]";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// "1 rule", "2 rules", "1 ladder step", "3 of 4 actions"...: a count with its noun agreeing.
export function count(n, noun, plural = `${noun}s`) {
  return `${n} ${Number(n) === 1 ? noun : plural}`;
}

// A name (a policy id, a file) that may break after `-`, `_`, `.` or `/` rather than mid-word
// in a narrow column: the text with <wbr> elements, still one text to a reader.
export function breakable(text) {
  const parts = String(text).split(/(?<=[-_./])/);
  const out = [];
  parts.forEach((part, i) => {
    if (i) out.push(document.createElement("wbr"));
    out.push(part);
  });
  return out;
}

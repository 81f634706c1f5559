// Talking to the service: JSON in and out, the page's CSRF token on every request that is
// not a GET, and problem documents (RFC 9457) turned into errors that carry their diagnostics.

const csrf = document.querySelector('meta[name="arrears-csrf"]').content;

export class ProblemError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.diagnostics = Array.isArray(problem.diagnostics) ? problem.diagnostics : [];
  }
}

export async function call(method, path, body, signal) {
  const init = { method, headers: { accept: "application/json" }, credentials: "same-origin", signal };
  if (method !== "GET") init.headers["x-arrears-csrf"] = csrf;
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    throw new ProblemError({ detail: `the service answered ${response.status} with something that is not JSON` }, response.status);
  }
  if (!response.ok) throw new ProblemError(data || {}, response.status);
  return data;
}

export const allowEdit = document.querySelector('meta[name="arrears-allow-edit"]').content === "true";

// The page's evaluation routes answer `{ok, result}` or `{ok: false, problem}` (a mistake in the
// policy or the snapshot is an answer, not an HTTP error); a problem becomes a ProblemError.
export async function result(method, path, body, signal) {
  const answer = await call(method, path, body, signal);
  if (!answer.ok) throw new ProblemError(answer.problem || {}, (answer.problem || {}).status || 422);
  return answer.result;
}

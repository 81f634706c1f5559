"""Who may talk to the service, and what a browser may do with its answers.

One ASGI middleware in front of every route:

- **Host** (loopback binds only): a `Host` header that is not a loopback name is refused,
  so a web page whose DNS name rebinds to 127.0.0.1 cannot read the service;
- **token** (`--token`): every request but `/healthz` presents it, as
  `Authorization: Bearer T`, as the cookie the page gets, or once as `/?token=T`, which
  sets the cookie (HttpOnly, SameSite=Strict) and redirects to `/` so the token leaves
  the address bar; anything else is 401;
- **cross-site forgery**: a request that changes state (any method but GET, HEAD,
  OPTIONS) is refused (403) when the browser says it comes from another site
  (`Sec-Fetch-Site`) or names another origin (`Origin`); workbench routes, and any
  request authenticated by the cookie, must also carry the page's CSRF token in
  `X-Arrears-CSRF` (a header a cross-site form cannot set);
- **headers**: a Content-Security-Policy that allows only the service's own scripts,
  styles, images and connections (no inline script, no eval), and no framing,
  sniffing or referrers. FastAPI's `/docs` pages load from a CDN and are left out.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import RedirectResponse, Response

from arrears.diagnostics import Diagnostic
from arrears.service.problems import Problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "arrears_token"
CSRF_HEADER = "x-arrears-csrf"
WORKBENCH_API = "/v1/workbench/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PATHS = frozenset({"/healthz"})
CDN_PAGES = ("/docs", "/redoc")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def page_csp(nonce: str) -> str:
    """The page's policy: CSP plus the one `<style>` element the editor writes, by its nonce."""
    return CSP.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")


_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
_LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or `localhost`."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """The middleware; `csrf` is the token the page is given (one per process)."""

    def __init__(self, app: ASGIApp, *, token: str | None, bound_host: str | None, csrf: str) -> None:
        self.app = app
        self.token = token
        self.check_host = bound_host is not None and is_loopback(bound_host)
        self.csrf = csrf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path: str = scope.get("path", "/")
        refusal = self._refusal(scope, headers, path)
        if refusal is not None:
            await self._with_headers(refusal, path)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {key.lower() for key, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self._extra_headers(path) if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    # -- decisions --------------------------------------------------------------------------

    def _refusal(self, scope: Scope, headers: dict[str, str], path: str) -> Response | None:
        method: str = scope.get("method", "GET")
        if self.check_host and not is_loopback(_host_name(headers.get("host", ""))):
            return _problem(
                403, "bad-host", "this service answers only to a loopback host name", "use http://127.0.0.1:PORT/"
            )
        by_cookie = False
        if self.token is not None and path not in OPEN_PATHS:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            offered = query.get("token", [None])[0]
            if path == "/" and method == "GET" and offered is not None:
                if not secrets.compare_digest(offered.encode(), self.token.encode()):
                    return _unauthorized()
                return _adopt_token(self.token, scope)
            bearer = headers.get("authorization", "")
            if bearer.lower().startswith("bearer ") and _same(bearer[7:].strip(), self.token):
                pass
            elif _same(_cookie(headers), self.token):
                by_cookie = True
            elif path == "/" and "text/html" in headers.get("accept", ""):
                return _unauthorized_page()
            else:
                return _unauthorized()
        if method in SAFE_METHODS:
            return None
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return _forgery("the request comes from another site")
        origin = headers.get("origin")
        if origin is not None and origin != _own_origin(scope, headers):
            return _forgery(f"the request comes from another origin ({origin})")
        if (path.startswith(WORKBENCH_API) or by_cookie) and not _same(headers.get(CSRF_HEADER), self.csrf):
            return _forgery("the request lacks the page's CSRF token")
        return None

    def _extra_headers(self, path: str) -> list[tuple[bytes, bytes]]:
        extra = list(_HEADERS)
        if not path.startswith(CDN_PAGES):
            extra.append((b"content-security-policy", CSP.encode()))
        return extra

    def _with_headers(self, response: Response, path: str) -> Response:
        for key, value in self._extra_headers(path):
            response.headers[key.decode()] = value.decode()
        return response


def _same(offered: str | None, expected: str) -> bool:
    return offered is not None and secrets.compare_digest(offered.encode(), expected.encode())


def _cookie(headers: dict[str, str]) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no token
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


def _own_origin(scope: Scope, headers: dict[str, str]) -> str:
    return f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"


def _adopt_token(token: str, scope: Scope) -> Response:
    """The token from the address becomes a cookie; the page reloads without it."""
    response = RedirectResponse("/", status_code=303)
    secure = scope.get("scheme") == "https"
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")
    response.headers["cache-control"] = "no-store"
    return response


def _problem(status: int, kind: str, detail: str, hint: str) -> Response:
    return Problem(status, kind, detail, [Diagnostic(detail, code=kind, hint=hint)]).response()


def _unauthorized() -> Response:
    response = _problem(
        401,
        "unauthorized",
        "this service needs its token",
        "open /?token=TOKEN once in the browser, or send `Authorization: Bearer TOKEN`",
    )
    response.headers["www-authenticate"] = "Bearer"
    return response


_UNAUTHORIZED_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>arrears workbench: token needed</title></head>
<body><h1>This workbench needs its token</h1>
<p>Open <code>/?token=TOKEN</code> once in this browser, with the token the service was started with
(<code>arrears serve --token</code> or <code>ARREARS_TOKEN</code>); the page then remembers it.</p>
</body></html>
"""


def _unauthorized_page() -> Response:
    """A person opening the page without the token reads what to do, not a JSON document."""
    response = Response(_UNAUTHORIZED_PAGE, status_code=401, media_type="text/html")
    response.headers["www-authenticate"] = "Bearer"
    response.headers["cache-control"] = "no-store"
    return response


def _forgery(detail: str) -> Response:
    return _problem(403, "forbidden", detail, "use the workbench page served by this service")


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


__all__ = ["COOKIE", "CSP", "CSRF_HEADER", "Guard", "is_loopback", "new_csrf_token", "page_csp"]

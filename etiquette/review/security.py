"""Who may use the review app, and what its pages may do.

- Bound to this machine (127.0.0.1, the default), a request must name this machine as its Host: a web page
  elsewhere cannot reach the app through a DNS name that points here (DNS rebinding).
- Bound to another address, every request needs the access token: given once in the address the app prints
  (`/?token=...`, which sets a cookie and forgets it from the address bar), as that cookie, or as
  `Authorization: Bearer ...`. Without it the answer is 401 and nothing else.
- Every state-changing request (a POST) carries the app's CSRF token in its form; the token is made when the
  app starts and is only ever written into its own pages, which another site cannot read.
- Every answer forbids what the pages do not need: scripts and styles from the app only, no frames, forms
  that post only to the app, media from the app only.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlencode

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse

COOKIE = "etiquette_review"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TOKEN_MIN = 16  # characters of a token given in a file
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
          "media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def is_local(host: str) -> bool:
    return host.strip("[]") in LOCAL_HOSTS or host.startswith("127.")


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _host_name(header: str) -> str:
    """The host of a Host header, without its port ("[::1]:8765" -> "::1")."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """ASGI middleware: the Host check (local binds), the access token (when there is one), the headers."""

    def __init__(self, app, token: str | None, local: bool):
        self.app = app
        self.token = token
        self.local = local

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)

    def _refusal(self, request: Request):
        if self.local and not is_local(_host_name(request.headers.get("host", ""))):
            return PlainTextResponse("This review answers only to its own address on this machine.", 400)
        if self.token is None:
            return None
        given = request.query_params.get("token")
        if same(given, self.token):  # the printed address: remember the token, and take it out of the address bar
            rest = urlencode([(key, value) for key, value in request.query_params.multi_items() if key != "token"])
            response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), 303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="lax")
            return response
        bearer = request.headers.get("authorization", "")
        if same(request.cookies.get(COOKIE), self.token) or (bearer.startswith("Bearer ") and same(bearer[7:], self.token)):
            return None
        return PlainTextResponse("This review needs its access token: open the address `etiquette review` printed.",
                                 401, headers={"www-authenticate": "Bearer"})

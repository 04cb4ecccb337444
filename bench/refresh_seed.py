#!/usr/bin/env python3
"""Live refresh tokens for the refresh-token benchmark (bench/run.sh), made the way an app gets
them: a person signs in, consents once, and each further trip through /oauth/authorize sends
the browser straight back to the app's callback with a code, which the app exchanges at
/oauth/token for tokens that include a refresh token.

Prints COUNT refresh tokens (kpr_...), one a line, on standard output; anything else goes to
standard error, and a failure exits 1 with one line saying which step answered what.
Standard library only.

Usage: refresh_seed.py --url http://127.0.0.1:PORT --client-id ID --callback URL
                       --email EMAIL --scope SCOPE --count N
Environment: BENCH_CLIENT_SECRET (the app's secret), BENCH_USER_PASSWORD (the person's).
"""

import argparse
import base64
import http.client
import json
import os
import sys
import time
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

MAX_HOPS = 8


class Failed(Exception):
    pass


class Forms(HTMLParser):
    """The `<form method="post">` elements of a page: action and named inputs."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._inputs: dict[str, str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._inputs = {} if a.get("method", "get").lower() == "post" else None
            if self._inputs is not None:
                self.forms.append((a.get("action", ""), self._inputs))
        elif tag == "input" and self._inputs is not None and a.get("name"):
            self._inputs[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._inputs = None

    def with_inputs(self, **wanted: str | None) -> tuple[str, dict[str, str]] | None:
        for action, inputs in self.forms:
            if all(k in inputs and (v is None or inputs[k] == v) for k, v in wanted.items()):
                return action, inputs
        return None


class Browser:
    """One keep-alive connection to the server, with a cookie jar and no redirect following."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.host, self.port = parts.hostname, parts.port or 80
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def send(self, method: str, url: str, body: str | None = None, headers: dict | None = None):
        target = urlsplit(urljoin(self.base + "/", url))
        path = target.path + (f"?{target.query}" if target.query else "")
        # As a browser asks: a form post to a server function then answers with a redirect.
        headers = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                break
            except (http.client.HTTPException, ConnectionError):
                # The server closed a kept-alive connection: one new connection, once.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt == 2:
                    raise
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                if "=" in pair:
                    k, v = pair.split("=", 1)
                    self.cookies[k.strip()] = v.strip()
        location = resp.getheader("Location")
        where = urljoin(urljoin(self.base + "/", url), location) if location else None
        return resp.status, where, text

    def post_form(self, url: str, fields: dict[str, str]):
        # Origin, as a browser sends it with a form post (the portal refuses cross-site posts).
        return self.send("POST", url, urlencode(fields), {"Origin": self.base})


def describe(step: str, status: int, where: str | None, text: str) -> str:
    return f"{step} answered {status}" + (f" to {where}" if where else "") + f": {text[:200]!r}"


def code_for(browser: Browser, authorize_url: str, callback: str, email: str, password: str) -> str:
    """Follows /oauth/authorize until the callback, signing in and allowing when asked."""
    status, where, text = browser.send("GET", authorize_url)
    step = "GET /oauth/authorize"
    for _ in range(MAX_HOPS):
        if status not in (302, 303) or not where:
            raise Failed(describe(step, status, where, text))
        if where == callback or where.startswith(callback + "?"):
            params = dict(parse_qsl(urlsplit(where).query))
            if "code" not in params:
                raise Failed(f"the callback came without a code: {where}")
            return params["code"]
        if not where.startswith(browser.base + "/"):
            raise Failed(f"sent neither to the server nor to the callback: {where}")
        path = urlsplit(where).path
        step = f"GET {path}"
        if path not in ("/signin", "/consent"):
            # Back to /oauth/authorize after signing in, say.
            status, where, text = browser.send("GET", where)
            continue
        status, _, page = browser.send("GET", where)
        if status != 200:
            raise Failed(describe(step, status, None, page))
        forms = Forms(page)
        if path == "/signin":
            form = forms.with_inputs(email=None, password=None)
            if form is None:
                raise Failed(f"no sign-in form (email, password) on {where}")
            action, inputs = form
            fields = {**inputs, "email": email, "password": password}
            step = "signing in"
        else:
            form = forms.with_inputs(query=None, decision="allow")
            if form is None:
                raise Failed(f"no Allow form (hidden query, decision=allow) on {where}")
            action, fields = form
            step = "allowing on the consent page"
        status, where, text = browser.post_form(urljoin(where, action), fields)
    raise Failed(f"no callback after {MAX_HOPS} redirects")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--callback", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--scope", required=True)
    p.add_argument("--count", type=int, required=True)
    args = p.parse_args()
    secret = os.environ.get("BENCH_CLIENT_SECRET", "")
    password = os.environ.get("BENCH_USER_PASSWORD", "")
    if not secret or not password:
        print("refresh_seed: BENCH_CLIENT_SECRET and BENCH_USER_PASSWORD must be set", file=sys.stderr)
        return 2
    basic = "Basic " + base64.b64encode(f"{args.client_id}:{secret}".encode()).decode()
    authorize_url = "/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": args.client_id, "redirect_uri": args.callback,
        "scope": args.scope, "state": "bench"})
    person = Browser(args.url)
    app = Browser(args.url)
    started = time.monotonic()
    tokens = []
    try:
        for _ in range(args.count):
            code = code_for(person, authorize_url, args.callback, args.email, password)
            status, _, text = app.send(
                "POST", "/oauth/token",
                urlencode({"grant_type": "authorization_code", "code": code,
                           "redirect_uri": args.callback}),
                {"Authorization": basic, "Accept": "application/json"})
            if status != 200:
                raise Failed(describe("the code exchange", status, None, text))
            token = json.loads(text).get("refresh_token", "")
            if not token.startswith("kpr_"):
                raise Failed(f"the code exchange gave no refresh_token: {text[:200]!r}")
            tokens.append(token)
    except (Failed, OSError, ValueError) as e:
        print(f"refresh_seed: after {len(tokens)} of {args.count} tokens: {e}", file=sys.stderr)
        return 1
    print("\n".join(tokens))
    print(f"refresh_seed: {len(tokens)} refresh tokens in {time.monotonic() - started:.1f}s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

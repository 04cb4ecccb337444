"""People signing in to apps (SPEC §3a): the authorization-code flow with PKCE, consent, refresh
tokens and OpenID Connect, driven by clients we did not write.

authlib's OAuth2Session is the app: it builds the authorization URL (S256 challenge, state, nonce),
checks the `state` that comes back, and trades the code for tokens, as a confidential client
(client_secret_basic / client_secret_post) and as a public one (`none`). Python has no browser, so
a `requests.Session` that follows no redirect by itself plays the person's browser: it opens the
authorization URL, is sent to the portal's sign-in page, posts the page's own form, comes back,
answers the consent page by posting its Allow or Deny form, and hands the callback URL it is sent
to (never fetched: nothing listens there) to authlib. PyJWT's PyJWKClient verifies the ID token
and the access token against the tenant's JWKS.

Runs on SQLite, and on PostgreSQL when KEYPORT_TEST_POSTGRES_URL names a server (CI sets it).
Every test registers its own apps, so consent given in one test never shortens another.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urljoin, urlsplit

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from conftest import HTTP_TIMEOUT_S, Keyport, create_client, hermetic_env, keyport_bin, server_on_engine

PASSWORD = "correct horse battery staple"
# Nothing listens here: the person's browser is never let through to the app, the test reads
# the URL it would have been sent to.
CALLBACK = "http://127.0.0.1:53682/cb"
HTTPS_CALLBACK = "https://app.example.com/cb"
REFRESH_TOKEN = re.compile(r"^kpr_[A-Za-z0-9_-]{43}$")
REDIRECTS = (301, 302, 303, 307, 308)
ALGORITHMS = ["ES256", "EdDSA", "RS256"]
SCOPES = {"orders:read": "Read your orders", "orders:write": "Change your orders"}
MAX_HOPS = 8


# ---------------------------------------------------------------------------------------------
# the server, its people and its apps


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    yield from server_on_engine(request.param, tmp_path_factory, "keyport-flow")


def create_user(database_url: str, email: str, name: str, *args: str) -> dict:
    """`keyport user create` with the password on standard input; its JSON line."""
    out = subprocess.run(
        [str(keyport_bin()), "user", "create", "--email", email, "--name", name, *args],
        env=hermetic_env(KEYPORT_DATABASE_URL=database_url, KEYPORT_LOG="warn"),
        input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )
    if out.returncode != 0:
        pytest.fail(f"`keyport user create --email {email}` exited with {out.returncode}: {out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


@dataclass
class Person:
    email: str
    name: str
    user_id: str
    tenant_id: str  # the tenant the portal session starts in


@dataclass
class App:
    client_id: str
    client_secret: str | None
    secret_id: str | None
    callback: str
    name: str
    confidential: bool


@dataclass
class World:
    """One running server with tenant `acme` (its apps, its member Alice) and Bob, who has only
    a tenant of his own."""

    server: Keyport
    tenant_id: str
    issuer: str
    audience: str
    discovery: dict
    jwks: jwt.PyJWKClient
    management_token: str
    alice: Person
    bob: Person
    _apps: int = 0
    # Codes, refresh tokens, ID tokens: checked against the server's log by the last test.
    credentials: list[tuple[str, str]] = field(default_factory=list)

    @property
    def public_url(self) -> str:
        return self.server.public_url

    def api(self, method: str, path: str, body: dict | None = None) -> requests.Response:
        return requests.request(
            method, f"{self.public_url}/api/v1{path}", json=body, timeout=HTTP_TIMEOUT_S,
            headers={"Authorization": f"Bearer {self.management_token}"},
        )

    def app(self, client_type: str = "confidential", *, visibility: str = "private",
            callback: str = CALLBACK, scopes: tuple[str, ...] = tuple(SCOPES)) -> App:
        self._apps += 1
        name = f"Flow app {self._apps}"
        resp = self.api("POST", "/apps", {
            "name": name, "client_type": client_type, "visibility": visibility,
            "callback_url": callback, "scopes": list(scopes),
        })
        assert resp.status_code == 201, f"creating a {client_type} app: {describe(resp)}"
        created = resp.json()
        assert created.get("callback_url") == callback, (
            f"the app's callback URL is stored as {created.get('callback_url')!r}, not {callback!r}"
        )
        if created.get("client_secret"):
            self.server.other_secrets.append((f"{name}'s client secret", created["client_secret"]))
        return App(
            client_id=created["client_id"], client_secret=created.get("client_secret"),
            secret_id=created.get("secret_id"), callback=callback, name=name,
            confidential=client_type == "confidential",
        )

    def keep(self, what: str, text: str | None) -> None:
        if text:
            self.credentials.append((what, text))


@pytest.fixture(scope="module")
def world(server: Keyport) -> World:
    db = server.database_url
    owner = create_user(db, "owner@acme.example", "Olive Owner", "--tenant", "acme", "--admin")
    alice = create_user(db, "alice@acme.example", "Alice Liddell", "--tenant", "acme")
    bob = create_user(db, "bob@elsewhere.example", "Bob Builder")
    tenant_id = owner["tenant_id"]
    assert alice["tenant_id"] == tenant_id and bob["tenant_id"] != tenant_id, (owner, alice, bob)

    tool = create_client(["--tenant", tenant_id, "--name", "flow-admin", "--tool", "--role", "admin"], db)
    # The server's "own" client for the log check is the tool client (conftest's Keyport).
    server.tenant_id, server.client_id, server.client_secret = (
        tool["tenant_id"], tool["client_id"], tool["client_secret"])
    resp = requests.post(
        f"{server.public_url}/oauth/token", auth=(tool["client_id"], tool["client_secret"]),
        data={"grant_type": "client_credentials", "resource": f"{server.public_url}/api/v1"},
        timeout=HTTP_TIMEOUT_S,
    )
    assert resp.status_code == 200, f"the admin tool client got no management token: {describe(resp)}"
    management_token = resp.json()["access_token"]
    server.issued_tokens.append(management_token)
    server.other_secrets.append(("the people's password", PASSWORD))

    headers = {"Authorization": f"Bearer {management_token}"}
    for name, description in SCOPES.items():
        made = requests.post(f"{server.public_url}/api/v1/scopes", headers=headers,
                             json={"name": name, "description": description}, timeout=HTTP_TIMEOUT_S)
        assert made.status_code == 201, f"adding scope {name}: {describe(made)}"
    tenant = requests.get(f"{server.public_url}/api/v1/tenant", headers=headers, timeout=HTTP_TIMEOUT_S)
    assert tenant.status_code == 200, describe(tenant)
    issuer = f"{server.public_url}/t/{tenant_id}"
    assert tenant.json()["issuer"] == issuer, tenant.json()

    url = f"{issuer}/.well-known/openid-configuration"
    doc = requests.get(url, timeout=HTTP_TIMEOUT_S)
    assert doc.status_code == 200, describe(doc)
    discovery = doc.json()
    return World(
        server=server, tenant_id=tenant_id, issuer=issuer, audience=tenant.json()["audience"],
        discovery=discovery, jwks=jwt.PyJWKClient(discovery["jwks_uri"], timeout=HTTP_TIMEOUT_S),
        management_token=management_token,
        alice=Person("alice@acme.example", "Alice Liddell", alice["user_id"], tenant_id),
        bob=Person("bob@elsewhere.example", "Bob Builder", bob["user_id"], bob["tenant_id"]),
    )


# ---------------------------------------------------------------------------------------------
# the person's browser


def describe(resp: requests.Response | None) -> str:
    if resp is None:
        return "no HTTP response was received"
    shown = {k: v for k, v in resp.headers.items()
             if k.lower() in ("location", "content-type", "cache-control", "www-authenticate")}
    return (f"{resp.request.method} {resp.url} -> HTTP {resp.status_code}, headers {shown}, "
            f"body {resp.text[:400]!r}")


@dataclass
class Form:
    method: str
    action: str
    inputs: dict[str, str]
    buttons: list[str]


class Page(HTMLParser):
    """The forms of a page, the `data-scope` list items of the consent page, and its text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.scopes: dict[str, str] = {}
        self.headings: list[str] = []
        self.text_parts: list[str] = []
        # Every link: its href and its text.
        self.links: list[tuple[str, str]] = []
        self._link: list[str] | None = None
        self._form: Form | None = None
        self._button: list[str] | None = None
        self._scope: str | None = None
        self._heading: list[str] | None = None
        self.feed(html)
        self.close()

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a.get("method", "get").lower(), a.get("action", ""), {}, [])
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and a.get("name"):
            self._form.inputs[a["name"]] = a.get("value", "")
        elif tag == "button" and self._form is not None:
            self._button = []
        elif tag == "li" and "data-scope" in a:
            self._scope = a["data-scope"]
            self.scopes[self._scope] = ""
        elif tag == "h1":
            self._heading = []
        elif tag == "a" and "href" in a:
            self.links.append((a["href"], ""))
            self._link = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "button" and self._button is not None and self._form is not None:
            self._form.buttons.append(" ".join("".join(self._button).split()))
            self._button = None
        elif tag == "li":
            self._scope = None
        elif tag == "h1" and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None
        elif tag == "a" and self._link is not None:
            self.links[-1] = (self.links[-1][0], " ".join("".join(self._link).split()))
            self._link = None

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        if self._button is not None:
            self._button.append(data)
        if self._scope is not None:
            self.scopes[self._scope] += data
        if self._heading is not None:
            self._heading.append(data)
        if self._link is not None:
            self._link.append(data)

    def form_with(self, **inputs: str) -> Form | None:
        for form in self.forms:
            if form.method == "post" and all(
                name in form.inputs and (value is None or form.inputs[name] == value)
                for name, value in inputs.items()
            ):
                return form
        return None


class Browser:
    """A person's browser: keeps cookies, follows no redirect by itself, and says where its
    form posts come from (`Origin`), as browsers do."""

    def __init__(self, world: World):
        self.world = world
        self.origin = world.public_url
        self.http = requests.Session()
        self.http.trust_env = False
        # What a browser accepts for a navigation; server functions answer a form posted by
        # one with a redirect (and a script's `Accept: */*` with JSON).
        self.http.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

    def close(self) -> None:
        self.http.close()

    def get(self, url: str) -> requests.Response:
        return self.http.get(urljoin(self.origin + "/", url), allow_redirects=False, timeout=HTTP_TIMEOUT_S)

    def post(self, url: str, data: dict[str, str]) -> requests.Response:
        return self.http.post(urljoin(self.origin + "/", url), data=data, allow_redirects=False,
                              headers={"Origin": self.origin}, timeout=HTTP_TIMEOUT_S)

    def page(self, url: str) -> tuple[requests.Response, Page]:
        resp = self.get(url)
        assert resp.status_code == 200, f"the page did not load: {describe(resp)}"
        return resp, Page(resp.text)

    def sign_in_on(self, signin_url: str, person: Person) -> requests.Response:
        """Fills in and posts the sign-in page's form (whatever hidden fields it has)."""
        resp, page = self.page(signin_url)
        form = page.form_with(email=None, password=None)
        assert form is not None, f"no sign-in form (email, password) on {signin_url}: {page.forms}"
        data = {**form.inputs, "email": person.email, "password": PASSWORD}
        return self.post(urljoin(resp.url, form.action), data)

    def sign_in(self, person: Person) -> None:
        answer = self.sign_in_on("/signin", person)
        assert answer.status_code in REDIRECTS, f"signing in failed: {describe(answer)}"

    def decide(self, consent_url: str, decision: str) -> requests.Response:
        resp, page = self.page(consent_url)
        form = page.form_with(query=None, decision=decision)
        assert form is not None, (
            f"the consent page has no {decision!r} form (hidden query + decision): "
            f"{page.headings} {page.text[:300]!r}"
        )
        return self.post(urljoin(resp.url, form.action), form.inputs)


def location(resp: requests.Response) -> str:
    assert resp.status_code in REDIRECTS and resp.headers.get("Location"), (
        f"expected a redirect: {describe(resp)}")
    return urljoin(resp.url, resp.headers["Location"])


def query_of(url: str) -> dict[str, str]:
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    names = [n for n, _ in pairs]
    assert len(names) == len(set(names)), f"a parameter is repeated in {url}"
    return dict(pairs)


def at_callback(url: str, callback: str) -> bool:
    return url == callback or url.startswith(callback + ("&" if "?" in callback else "?"))


@dataclass
class Arrival:
    """Where the browser was sent in the end, and what it went through on the way."""

    url: str
    steps: list[str]

    @property
    def params(self) -> dict[str, str]:
        return query_of(self.url)


def authorize(browser: Browser, url: str, app: App, person: Person | None,
              decision: str = "allow") -> Arrival:
    """Opens `url` and goes where the server sends the browser, signing in as `person` and
    answering the consent page with `decision` when asked, until the app's callback."""
    steps: list[str] = []
    resp = browser.get(url)
    for _ in range(MAX_HOPS):
        if resp.status_code == 400 and "Location" not in resp.headers:
            # SPEC §3a: someone not known to trust the app sees a page naming it and its
            # callback's host, with one "Return to {host}" link carrying the error.
            page = Page(resp.text)
            host = urlsplit(app.callback).hostname
            back = [href for href, text in page.links if text == f"Return to {host}"]
            assert len(back) == 1, f"an error page without one way back to {host}: {describe(resp)}"
            steps.append("return-page")
            target = urljoin(resp.url, back[0])
            assert at_callback(target, app.callback), f"the way back leads elsewhere: {target}"
            return Arrival(target, steps)
        target = location(resp)
        if at_callback(target, app.callback):
            return Arrival(target, steps)
        assert target.startswith(browser.origin + "/"), (
            f"sent neither to the server nor to the app's callback {app.callback}: {target}")
        path = urlsplit(target).path
        if path == "/signin":
            assert person is not None, f"asked to sign in: {target}"
            steps.append("signin")
            resp = browser.sign_in_on(target, person)
        elif path == "/consent":
            steps.append("consent")
            resp = browser.decide(target, decision)
        else:
            if not path.endswith("/oauth/authorize"):  # back to the authorization endpoint
                steps.append(path)
            resp = browser.get(target)
    pytest.fail(f"no callback after {MAX_HOPS} redirects; steps {steps}, last {describe(resp)}")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(world: World, app: App, scope: str = "openid", **params: str | None) -> str:
    """An authorization URL built by hand, for the requests authlib would not make."""
    query = {"response_type": "code", "client_id": app.client_id, "redirect_uri": app.callback,
             "scope": scope, "state": secrets.token_urlsafe(12), **params}
    return world.discovery["authorization_endpoint"] + "?" + urlencode(
        {k: v for k, v in query.items() if v is not None})


# ---------------------------------------------------------------------------------------------
# the app's side


class Client:
    """The app, as authlib's OAuth2Session: builds the authorization URL with an S256 challenge,
    state and nonce, and exchanges the callback URL for tokens."""

    def __init__(self, world: World, app: App, scope: str, auth_method: str | None = None,
                 secret: str | None = None):
        self.world, self.app = world, app
        method = auth_method or ("client_secret_basic" if app.confidential else "none")
        self.session = OAuth2Session(
            app.client_id, (secret or app.client_secret) if app.confidential else None,
            scope=scope, redirect_uri=app.callback, code_challenge_method="S256",
            token_endpoint_auth_method=method, default_timeout=HTTP_TIMEOUT_S,
        )
        self.session.trust_env = False
        self.responses: list[requests.Response] = []
        for hook in ("access_token_response", "refresh_token_response"):
            self.session.register_compliance_hook(hook, self._keep)
        self.verifier = secrets.token_urlsafe(48)
        self.nonce = secrets.token_urlsafe(16)
        self.state = ""

    def _keep(self, resp: requests.Response) -> requests.Response:
        self.responses.append(resp)
        return resp

    def close(self) -> None:
        self.session.close()

    def authorization_url(self, **extra: str) -> str:
        url, self.state = self.session.create_authorization_url(
            self.world.discovery["authorization_endpoint"], code_verifier=self.verifier,
            nonce=self.nonce, **extra)
        return url

    def fetch_token(self, callback_url: str) -> dict:
        try:
            token = self.session.fetch_token(
                self.world.discovery["token_endpoint"], authorization_response=callback_url,
                code_verifier=self.verifier, state=self.state)
        except Exception as err:  # noqa: BLE001 - report what authlib raised, with the response
            pytest.fail(f"authlib fetch_token raised {err!r}; "
                        + describe(self.responses[-1] if self.responses else None))
        return self._issued(token)

    def refresh(self, refresh_token: str) -> dict:
        try:
            token = self.session.refresh_token(self.world.discovery["token_endpoint"],
                                               refresh_token=refresh_token)
        except Exception as err:  # noqa: BLE001
            pytest.fail(f"authlib refresh_token raised {err!r}; "
                        + describe(self.responses[-1] if self.responses else None))
        return self._issued(token)

    def _issued(self, token: dict) -> dict:
        resp = self.responses[-1]
        assert resp.status_code == 200, describe(resp)
        assert "no-store" in resp.headers.get("Cache-Control", ""), (
            f"token responses carry Cache-Control: no-store: {describe(resp)}")
        keep_tokens(self.world, token)
        return token


def keep_tokens(world: World, token: dict) -> None:
    if token.get("access_token"):
        world.server.issued_tokens.append(token["access_token"])
    world.keep("a refresh token", token.get("refresh_token"))
    world.keep("an ID token", token.get("id_token"))


def token_request(world: World, app: App, data: dict[str, str], *, secret: str | None = None,
                  auth: str = "basic") -> requests.Response:
    """A raw token-endpoint request by `app` (HTTP Basic, or client_id in the body for a public
    client or auth="post")."""
    body = dict(data)
    kwargs: dict = {}
    if app.confidential and auth == "basic":
        kwargs["auth"] = (app.client_id, secret or app.client_secret)
    else:
        body["client_id"] = app.client_id
        if app.confidential:
            body["client_secret"] = secret or app.client_secret
    resp = requests.post(world.discovery["token_endpoint"], data=body, timeout=HTTP_TIMEOUT_S, **kwargs)
    if resp.status_code == 200:
        keep_tokens(world, resp.json())
    return resp


def expect_error(resp: requests.Response, error: str, status: int = 400) -> None:
    try:
        got = resp.json().get("error")
    except ValueError:
        got = None
    assert (resp.status_code, got) == (status, error), (
        f"expected HTTP {status} {error}: {describe(resp)}")


def code_for(world: World, browser: Browser, app: App, person: Person,
             **params: str | None) -> tuple[str, str]:
    """A code for `app` (consenting if asked), with the verifier of the S256 challenge sent."""
    verifier, challenge = pkce_pair()
    url = authorize_url(world, app, code_challenge=challenge, code_challenge_method="S256", **params)
    arrival = authorize(browser, url, app, person)
    assert "code" in arrival.params, f"no code at the callback: {arrival.url}"
    world.keep("an authorization code", arrival.params["code"])
    return arrival.params["code"], verifier


def verify_access_token(world: World, token: str) -> dict:
    header = jwt.get_unverified_header(token)
    assert header.get("typ") == "at+jwt", f"access token header typ should be at+jwt: {header}"
    key = world.jwks.get_signing_key_from_jwt(token)
    try:
        return jwt.decode(token, key.key, algorithms=ALGORITHMS, issuer=world.issuer,
                          audience=world.audience,
                          options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]})
    except jwt.InvalidTokenError as err:
        pytest.fail(f"PyJWT rejected the access token: {err!r}; claims "
                    f"{jwt.decode(token, options={'verify_signature': False})}")


def verify_id_token(world: World, token: str, client_id: str, nonce: str | None) -> dict:
    header = jwt.get_unverified_header(token)
    assert header.get("typ") == "JWT", f"ID token header typ should be JWT: {header}"
    assert header.get("kid"), f"ID token header has no kid: {header}"
    key = world.jwks.get_signing_key_from_jwt(token)
    try:
        claims = jwt.decode(token, key.key, algorithms=ALGORITHMS, issuer=world.issuer,
                            audience=client_id,
                            options={"require": ["iss", "sub", "aud", "exp", "iat", "auth_time"]})
    except jwt.InvalidTokenError as err:
        pytest.fail(f"PyJWT rejected the ID token: {err!r}; claims "
                    f"{jwt.decode(token, options={'verify_signature': False})}")
    assert claims.get("nonce") == nonce, f"the ID token's nonce should be {nonce!r}: {claims}"
    assert claims["aud"] == client_id, f"aud should be the client id: {claims}"
    now = time.time()
    assert abs(claims["iat"] - now) < 120 and claims["exp"] > now, f"iat/exp are not about now: {claims}"
    assert claims["auth_time"] <= claims["iat"] and now - claims["auth_time"] < 600, (
        f"auth_time should be when the person signed in, minutes ago at most: {claims}")
    return claims


def userinfo(world: World, access_token: str, method: str = "GET") -> requests.Response:
    return requests.request(method, world.discovery["userinfo_endpoint"], timeout=HTTP_TIMEOUT_S,
                            headers={"Authorization": f"Bearer {access_token}"})


@pytest.fixture
def browser(world: World):
    opened = Browser(world)
    yield opened
    opened.close()


# ---------------------------------------------------------------------------------------------
# tests


def test_discovery_announces_the_code_flow(world: World):
    doc, issuer = world.discovery, world.issuer
    assert doc["issuer"] == issuer, doc
    expected = {
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "jwks_uri": f"{issuer}/jwks.json",
    }
    wrong = {k: doc.get(k) for k, v in expected.items() if doc.get(k) != v}
    assert not wrong, f"endpoints differ from {expected}: {wrong}"
    assert doc.get("code_challenge_methods_supported") == ["S256"], doc
    assert {"client_secret_basic", "client_secret_post", "none"} <= set(
        doc.get("token_endpoint_auth_methods_supported", [])), doc
    assert {"openid", "profile", "email", "offline_access"} <= set(doc.get("scopes_supported", [])), doc
    assert doc.get("response_types_supported") == ["code"], doc
    assert {"authorization_code", "refresh_token"} <= set(doc.get("grant_types_supported", [])), doc
    assert doc.get("authorization_response_iss_parameter_supported") is True, doc
    assert doc.get("id_token_signing_alg_values_supported"), doc
    assert "public" in doc.get("subject_types_supported", []), doc


def test_confidential_app_signs_a_person_in_with_openid_connect(world: World, browser: Browser):
    app = world.app("confidential")
    client = Client(world, app, "openid email profile orders:read")
    try:
        url = client.authorization_url()
        # Nobody is signed in: the sign-in page, with the way back.
        first = browser.get(url)
        assert first.status_code == 303, describe(first)
        signin = location(first)
        assert urlsplit(signin).path == "/signin" and signin.startswith(world.public_url), signin
        back = parse_qs(urlsplit(signin).query).get("next", [""])[0]
        sent = urlsplit(url)
        assert urlsplit(back).path == sent.path and sorted(parse_qsl(urlsplit(back).query)) == sorted(
            parse_qsl(sent.query)), f"next={back!r} is not the authorization request {url!r}"

        answer = browser.sign_in_on(signin, world.alice)
        assert answer.status_code in REDIRECTS, f"signing in should redirect: {describe(answer)}"
        returned = location(answer)
        assert returned.startswith(world.public_url + "/") and urlsplit(returned).path == sent.path, (
            f"after signing in the browser should go back to {back!r}: {describe(answer)}")
        assert sorted(parse_qsl(urlsplit(returned).query)) == sorted(parse_qsl(sent.query)), (
            f"the way back is not the same authorization request {back!r}: {describe(answer)}")

        ask = browser.get(returned)
        assert ask.status_code == 303, describe(ask)
        consent = location(ask)
        assert urlsplit(consent).path == "/consent", consent
        assert sorted(parse_qsl(urlsplit(consent).query)) == sorted(parse_qsl(sent.query)), consent

        resp, page = browser.page(consent)
        assert f"Allow {app.name} to use your account?" in page.headings, page.headings
        assert "acme" in page.text, f"the consent page names the owner tenant: {page.text[:400]!r}"
        assert set(page.scopes) == {"openid", "email", "profile", "orders:read"}, page.scopes
        assert SCOPES["orders:read"] in page.scopes["orders:read"], page.scopes
        allow = page.form_with(decision="allow")
        assert allow is not None and page.form_with(decision="deny") is not None, page.forms
        assert "Allow" in allow.buttons, allow

        answer = browser.post(urljoin(resp.url, allow.action), allow.inputs)
        callback = location(answer)
        assert at_callback(callback, app.callback), f"Allow should send to the callback: {callback}"
        params = query_of(callback)
        assert params.get("state") == client.state, params
        assert params.get("iss") == world.issuer, f"iss (RFC 9207) should be {world.issuer}: {params}"
        assert set(params) == {"code", "state", "iss"}, params
        world.keep("an authorization code", params["code"])

        token = client.fetch_token(callback)
        assert token.get("token_type") == "Bearer", token
        assert set(token.get("scope", "").split()) == {"openid", "email", "profile", "orders:read"}, token
        assert REFRESH_TOKEN.match(token.get("refresh_token", "")), f"refresh token format: {token}"
        assert token.get("id_token"), f"scope openid gives an ID token: {token}"

        claims = verify_access_token(world, token["access_token"])
        assert claims["sub"] == world.alice.user_id, f"sub should be the person: {claims}"
        assert claims["client_id"] == app.client_id, claims
        assert claims["tenant"] == world.tenant_id, claims
        assert set(claims["scope"].split()) == {"openid", "email", "profile", "orders:read"}, claims

        id_claims = verify_id_token(world, token["id_token"], app.client_id, client.nonce)
        assert id_claims["sub"] == world.alice.user_id, id_claims
        assert id_claims.get("email") == world.alice.email, id_claims
        assert id_claims.get("name") == world.alice.name, id_claims

        for method in ("GET", "POST"):
            info = userinfo(world, token["access_token"], method)
            assert info.status_code == 200, describe(info)
            body = info.json()
            assert body.get("sub") == world.alice.user_id, body
            assert body.get("email") == world.alice.email and "email_verified" in body, body
            assert body.get("name") == world.alice.name, body
        # RFC 6750 §2.2, pyoidc's default: on POST the token may be access_token in a form
        # body instead of the header, but in one place only (§2).
        in_body = requests.post(world.discovery["userinfo_endpoint"], timeout=HTTP_TIMEOUT_S,
                                data={"access_token": token["access_token"]})
        assert in_body.status_code == 200, describe(in_body)
        assert in_body.json().get("sub") == world.alice.user_id, in_body.json()
        both = requests.post(world.discovery["userinfo_endpoint"], timeout=HTTP_TIMEOUT_S,
                             data={"access_token": token["access_token"]},
                             headers={"Authorization": f"Bearer {token['access_token']}"})
        assert both.status_code == 400, describe(both)
        assert both.json().get("error") == "invalid_request", describe(both)

        # The app's own client-credentials token has nobody behind it.
        own = token_request(world, app, {"grant_type": "client_credentials"})
        assert own.status_code == 200, describe(own)
        refused = userinfo(world, own.json()["access_token"])
        assert refused.status_code == 401, describe(refused)
        assert refused.headers.get("WWW-Authenticate", "").startswith("Bearer"), describe(refused)

        # Consent is remembered: the same or fewer scopes come straight back with a code.
        for scope in ("openid email profile orders:read", "openid orders:read"):
            again = authorize(browser, authorize_url(world, app, scope=scope), app, world.alice)
            assert again.steps == [] and "code" in again.params, (scope, again)
            assert again.params["iss"] == world.issuer, again.params
            world.keep("an authorization code", again.params["code"])
        # More than was allowed asks again.
        more = authorize(browser, authorize_url(world, app, scope="openid orders:write"), app,
                         world.alice)
        assert more.steps == ["consent"] and "code" in more.params, more
        world.keep("an authorization code", more.params["code"])
    finally:
        client.close()


def test_public_app_uses_pkce_and_its_id_alone(world: World, browser: Browser):
    app = world.app("public")
    assert app.client_secret is None, "a public app has no secret"
    client = Client(world, app, "openid orders:read")
    try:
        url = client.authorization_url()
        assert "code_challenge_method=S256" in url and "code_challenge=" in url, url
        arrival = authorize(browser, url, app, world.alice)
        assert arrival.steps == ["signin", "consent"], arrival.steps
        assert arrival.params.get("iss") == world.issuer and arrival.params.get("state") == client.state
        world.keep("an authorization code", arrival.params.get("code"))

        token = client.fetch_token(arrival.url)
        sent = client.responses[-1].request
        assert "Authorization" not in sent.headers and "client_secret" not in (sent.body or ""), (
            "authlib sent the public client's id alone")
        assert REFRESH_TOKEN.match(token.get("refresh_token", "")), token
        id_claims = verify_id_token(world, token["id_token"], app.client_id, client.nonce)
        assert "email" not in id_claims and "name" not in id_claims, (
            f"without scopes email/profile the ID token names neither: {id_claims}")
        claims = verify_access_token(world, token["access_token"])
        assert claims["sub"] == world.alice.user_id and claims["client_id"] == app.client_id, claims
        info = userinfo(world, token["access_token"])
        assert info.status_code == 200 and info.json() == {"sub": world.alice.user_id}, describe(info)

        refreshed = client.refresh(token["refresh_token"])
        assert refreshed["refresh_token"] != token["refresh_token"], "refresh tokens rotate"
        claims = verify_access_token(world, refreshed["access_token"])
        assert claims["sub"] == world.alice.user_id, claims
    finally:
        client.close()


@pytest.mark.parametrize("state", ["aGVsbG8+d29ybGQ/Pz8=", "a&b=c", "x+y z", "100%25", "%2F/é#?"])
@pytest.mark.parametrize("steps", [["signin", "consent"], ["consent"], []],
                         ids=["signin+consent", "consent", "direct"])
def test_the_state_comes_back_unchanged(world: World, browser: Browser, state: str, steps: list[str]):
    """RFC 6749 §4.1.2: `state` is returned exactly as sent, whatever characters it holds, on
    every way to the callback: through the sign-in page, through the consent page, straight."""
    app = world.app("confidential")
    if steps != ["signin", "consent"]:
        browser.sign_in(world.alice)
    if not steps:
        given = authorize(browser, authorize_url(world, app, scope="openid orders:read"), app, world.alice)
        assert given.steps == ["consent"] and "code" in given.params, given
    url = authorize_url(world, app, scope="openid orders:read", state=state)
    arrival = authorize(browser, url, app, world.alice)
    assert arrival.steps == steps, arrival
    assert arrival.params.get("state") == state, (
        f"state {state!r} came back as {arrival.params.get('state')!r}: {arrival.url}")
    assert "code" in arrival.params, arrival.params
    world.keep("an authorization code", arrival.params["code"])


def test_a_callback_with_its_own_query_survives_signing_in(world: World, browser: Browser):
    """The callback keeps its own query (RFC 6749 §3.1.2), and the authorization request that
    names it comes back from the sign-in page as it was sent."""
    callback = "https://app.example.com/cb?tenant=1&lang=en"
    app = world.app("confidential", callback=callback)
    arrival = authorize(browser, authorize_url(world, app, state="own-query"), app, world.alice)
    assert arrival.steps == ["signin", "consent"], arrival
    params = arrival.params
    assert params.get("tenant") == "1" and params.get("lang") == "en", params
    assert params.get("state") == "own-query" and "code" in params, params
    world.keep("an authorization code", params["code"])


def test_deny_sends_access_denied_with_state(world: World, browser: Browser):
    app = world.app("confidential")
    url = authorize_url(world, app, scope="openid orders:read", state="deny-me")
    arrival = authorize(browser, url, app, world.alice, decision="deny")
    assert arrival.steps == ["signin", "consent"], arrival
    params = arrival.params
    assert params.get("error") == "access_denied", params
    assert params.get("state") == "deny-me" and params.get("iss") == world.issuer, params
    assert "code" not in params, params
    # Nothing was remembered: the next request asks again.
    again = authorize(browser, url, app, world.alice, decision="deny")
    assert again.steps == ["consent"], again


@pytest.mark.parametrize("registered,sent", [
    pytest.param(CALLBACK, CALLBACK + "/", id="trailing-slash"),
    pytest.param(CALLBACK, CALLBACK + "?x=1", id="extra-query"),
    pytest.param(CALLBACK, CALLBACK + "#x", id="fragment"),
    pytest.param(CALLBACK, CALLBACK.replace("/cb", "/CB"), id="upper-case-path"),
    pytest.param(CALLBACK, CALLBACK.replace("http:", "HTTP:"), id="upper-case-scheme"),
    pytest.param(CALLBACK, "http://127.0.0.1.evil.example/cb", id="look-alike-host"),
    pytest.param(CALLBACK, "http://127.0.0.1.evil.example:53682/cb", id="look-alike-host-port"),
    pytest.param(CALLBACK, CALLBACK + "/..;/cb", id="dotdot-semicolon"),
    pytest.param(CALLBACK, "http://127.0.0.1:53682/..;/cb", id="dotdot-semicolon-root"),
    pytest.param(CALLBACK, "http://127.0.0.1:53682/x/../cb", id="dot-segments"),
    pytest.param(CALLBACK, "http://127.0.0.1:53682/c%62", id="percent-encoded"),
    pytest.param(CALLBACK, "http://127.0.0.1:53683/cb", id="other-port"),
    pytest.param(CALLBACK, "http://127.0.0.1/cb", id="no-port"),
    pytest.param(CALLBACK, "http://localhost:53682/cb", id="localhost-for-ip"),
    pytest.param(CALLBACK, "http://[::1]:53682/cb", id="ipv6-loopback"),
    pytest.param(CALLBACK, "http://127.0.0.1:53682@evil.example/cb", id="userinfo"),
    pytest.param(CALLBACK, "http://127.0.0.1:53682/cb2", id="longer-path"),
    pytest.param(HTTPS_CALLBACK, "https://APP.EXAMPLE.COM/cb", id="upper-case-host"),
    pytest.param(HTTPS_CALLBACK, "https://app.example.com:443/cb", id="explicit-default-port"),
    pytest.param(HTTPS_CALLBACK, "http://app.example.com/cb", id="http-downgrade"),
    pytest.param(HTTPS_CALLBACK, "https://app.example.com.evil.example/cb", id="look-alike-suffix"),
    pytest.param(HTTPS_CALLBACK, "https://app.example.com\\@evil.example/cb", id="backslash"),
])
def test_a_redirect_uri_that_is_not_the_callback_gets_an_error_page(
    world: World, browser: Browser, registered: str, sent: str
):
    app = world.app("confidential", callback=registered)
    browser.sign_in(world.alice)
    # The registered callback works (so the refusals below are about the redirect_uri only).
    good = authorize(browser, authorize_url(world, app), app, world.alice)
    assert good.steps == ["consent"] and "code" in good.params, good
    world.keep("an authorization code", good.params["code"])

    for who in ("signed in, consented", "nobody signed in"):
        if who == "nobody signed in":
            browser.http.cookies.clear()
        resp = browser.get(authorize_url(world, app, redirect_uri=sent))
        assert resp.status_code == 400, f"{who}: {describe(resp)}"
        assert "Location" not in resp.headers, f"{who}: an error page never redirects: {describe(resp)}"
        assert resp.headers.get("Content-Type", "").startswith("text/html"), describe(resp)
        assert "Cannot sign you in" in resp.text, describe(resp)


def test_unknown_and_foreign_clients_get_an_error_page(world: World, browser: Browser):
    other = create_user(world.server.database_url, "carol@other.example", "Carol", "--tenant",
                        "othercorp", "--admin")
    foreign = create_client(["--tenant", other["tenant_id"], "--name", "foreign"],
                            world.server.database_url)
    world.server.other_secrets.append(("the foreign client's secret", foreign["client_secret"]))
    endpoint = world.discovery["authorization_endpoint"]
    for client_id in ("kpc_" + "A" * 22, "not-a-client-id", foreign["client_id"]):
        resp = browser.get(endpoint + "?" + urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
            "state": "s", "scope": "openid"}))
        assert resp.status_code == 400 and "Location" not in resp.headers, f"{client_id}: {describe(resp)}"


def test_a_replayed_code_is_refused_and_revokes_what_it_gave(world: World, browser: Browser):
    app = world.app("confidential")
    code, verifier = code_for(world, browser, app, world.alice, scope="openid orders:read")
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.callback,
                "code_verifier": verifier}
    first = token_request(world, app, exchange)
    assert first.status_code == 200, describe(first)
    tokens = first.json()
    assert REFRESH_TOKEN.match(tokens.get("refresh_token", "")), tokens

    second = token_request(world, app, exchange)
    expect_error(second, "invalid_grant")
    dead = token_request(world, app, {"grant_type": "refresh_token",
                                      "refresh_token": tokens["refresh_token"]})
    expect_error(dead, "invalid_grant")
    introspected = requests.post(world.discovery["introspection_endpoint"], timeout=HTTP_TIMEOUT_S,
                                 data={"token": tokens["access_token"]},
                                 auth=(app.client_id, app.client_secret))
    assert introspected.status_code == 200, describe(introspected)
    assert introspected.json().get("active") is False, (
        f"the access token the code gave is revoked too (SPEC §3a): {introspected.json()}")


def test_a_replay_revokes_the_access_tokens_its_refreshes_issued(world: World, browser: Browser):
    app = world.app("confidential")
    code, verifier = code_for(world, browser, app, world.alice, scope="openid orders:read")
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.callback,
                "code_verifier": verifier}
    first = token_request(world, app, exchange)
    assert first.status_code == 200, describe(first)
    refreshed = token_request(world, app, {"grant_type": "refresh_token",
                                           "refresh_token": first.json()["refresh_token"]})
    assert refreshed.status_code == 200, describe(refreshed)
    access = [first.json()["access_token"], refreshed.json()["access_token"]]

    def active(token: str) -> bool:
        resp = requests.post(world.discovery["introspection_endpoint"], timeout=HTTP_TIMEOUT_S,
                             data={"token": token}, auth=(app.client_id, app.client_secret))
        assert resp.status_code == 200, describe(resp)
        return resp.json().get("active") is True

    def userinfo(token: str) -> int:
        return requests.get(world.discovery["userinfo_endpoint"], timeout=HTTP_TIMEOUT_S,
                            headers={"Authorization": f"Bearer {token}"}).status_code

    assert [active(t) for t in access] == [True, True]
    expect_error(token_request(world, app, exchange), "invalid_grant")
    assert [active(t) for t in access] == [False, False], (
        "every access token descending from the replayed code is revoked (SPEC §3a)")
    assert [userinfo(t) for t in access] == [401, 401]


def test_a_registered_callback_is_no_open_redirector(world: World, browser: Browser):
    """RFC 9700 §4.11.2: an error for an app, asked for by nobody signed in or by a stranger,
    is a page naming the app and its callback's host, never an instant redirect."""
    app = world.app("confidential")
    host = urlsplit(app.callback).hostname
    url = authorize_url(world, app, response_type="token", state="lure")
    for who in (None, world.bob):
        browser.http.cookies.clear()
        if who:
            browser.sign_in(who)
        resp = browser.get(url)
        assert resp.status_code == 400 and "Location" not in resp.headers, describe(resp)
        page = Page(resp.text)
        assert any(h.endswith("could not sign you in") for h in page.headings), page.headings
        assert host in page.text and app.name in page.text, page.text[:400]
        sheet = re.search(r'<link rel="stylesheet" href="(/pkg/[^"]+\.css)"', resp.text)
        assert sheet, f"the page links the portal's stylesheet: {resp.text[:400]!r}"
        css = browser.get(sheet.group(1))
        assert css.status_code == 200 and "text/css" in css.headers.get("Content-Type", ""), describe(css)
    # Someone who trusts the app (a member of its tenant) is sent back at once.
    browser.http.cookies.clear()
    browser.sign_in(world.alice)
    arrival = authorize(browser, url, app, world.alice)
    assert arrival.steps == [] and arrival.params.get("error") == "unsupported_response_type", arrival
    assert arrival.params.get("state") == "lure", arrival.params


def test_state_and_nonce_have_limits(world: World, browser: Browser):
    app = world.app("confidential")
    browser.sign_in(world.alice)
    too_long = authorize(browser, authorize_url(world, app, state="s" * 2049), app, world.alice)
    assert too_long.params.get("error") == "invalid_request", too_long.params
    assert "state" not in too_long.params, "an oversized state is not echoed"
    nonce = authorize(browser, authorize_url(world, app, state="n", nonce="n" * 513), app, world.alice)
    assert nonce.params.get("error") == "invalid_request" and nonce.params.get("state") == "n"
    code, _ = code_for(world, browser, app, world.alice, state="s" * 2048, nonce="n" * 512)
    assert code


@pytest.mark.parametrize("client_type", ["public", "confidential"])
def test_a_wrong_or_missing_verifier_is_invalid_grant(world: World, browser: Browser, client_type: str):
    app = world.app(client_type)
    code, verifier = code_for(world, browser, app, world.alice)
    wrong = token_request(world, app, {"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": app.callback,
                                       "code_verifier": pkce_pair()[0]})
    expect_error(wrong, "invalid_grant")

    code, verifier = code_for(world, browser, app, world.alice)
    missing = token_request(world, app, {"grant_type": "authorization_code", "code": code,
                                         "redirect_uri": app.callback})
    expect_error(missing, "invalid_grant")

    code, verifier = code_for(world, browser, app, world.alice)
    right = token_request(world, app, {"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": app.callback, "code_verifier": verifier})
    assert right.status_code == 200, describe(right)


def test_a_public_client_without_a_challenge_is_sent_back_invalid_request(world: World, browser: Browser):
    app = world.app("public")
    for person in (None, world.alice):
        if person:
            browser.sign_in(person)
        arrival = authorize(browser, authorize_url(world, app, state="no-pkce"), app, person)
        params = arrival.params
        assert params.get("error") == "invalid_request", params
        assert params.get("state") == "no-pkce" and params.get("iss") == world.issuer, params
        assert "code" not in params, params


@pytest.mark.parametrize("client_type", ["public", "confidential"])
def test_the_plain_challenge_method_is_refused(world: World, browser: Browser, client_type: str):
    app = world.app(client_type)
    browser.sign_in(world.alice)
    verifier = secrets.token_urlsafe(48)
    for method in ("plain", None):
        url = authorize_url(world, app, state="plain", code_challenge=verifier,
                            code_challenge_method=method)
        arrival = authorize(browser, url, app, world.alice)
        assert arrival.params.get("error") == "invalid_request", (method, arrival.params)
        assert arrival.params.get("state") == "plain" and arrival.params.get("iss") == world.issuer


def test_a_verifier_for_a_code_without_a_challenge_is_invalid_grant(world: World, browser: Browser):
    app = world.app("confidential")
    arrival = authorize(browser, authorize_url(world, app), app, world.alice)
    code = arrival.params.get("code")
    assert code, f"a confidential client may leave PKCE out: {arrival.params}"
    world.keep("an authorization code", code)
    downgraded = token_request(world, app, {"grant_type": "authorization_code", "code": code,
                                            "redirect_uri": app.callback,
                                            "code_verifier": pkce_pair()[0]})
    expect_error(downgraded, "invalid_grant")


def test_refresh_tokens_rotate_and_a_reused_one_ends_the_family(world: World, browser: Browser):
    app = world.app("public")
    code, verifier = code_for(world, browser, app, world.alice, scope="orders:read")
    first = token_request(world, app, {"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": app.callback, "code_verifier": verifier})
    assert first.status_code == 200, describe(first)
    r0 = first.json()["refresh_token"]
    assert "id_token" not in first.json(), "no ID token without scope openid"

    rotated = token_request(world, app, {"grant_type": "refresh_token", "refresh_token": r0})
    assert rotated.status_code == 200, describe(rotated)
    r1 = rotated.json().get("refresh_token", "")
    assert REFRESH_TOKEN.match(r1) and r1 != r0, f"a new refresh token on every use: {rotated.json()}"
    claims = verify_access_token(world, rotated.json()["access_token"])
    assert claims["sub"] == world.alice.user_id and claims["scope"] == "orders:read", claims

    reused = token_request(world, app, {"grant_type": "refresh_token", "refresh_token": r0})
    expect_error(reused, "invalid_grant")
    family = token_request(world, app, {"grant_type": "refresh_token", "refresh_token": r1})
    expect_error(family, "invalid_grant")


def test_a_refresh_token_outlives_a_secret_refresh_with_no_grace(world: World, browser: Browser):
    app = world.app("confidential")
    client = Client(world, app, "openid orders:read", auth_method="client_secret_post")
    try:
        arrival = authorize(browser, client.authorization_url(), app, world.alice)
        token = client.fetch_token(arrival.url)
    finally:
        client.close()
    resp = world.api("POST", f"/apps/{app.client_id}/secrets/{app.secret_id}/refresh",
                     {"grace_seconds": 0})
    assert resp.status_code == 201, describe(resp)
    new_secret = resp.json()["secret"]
    world.server.other_secrets.append(("a refreshed client secret", new_secret))

    old = token_request(world, app, {"grant_type": "refresh_token",
                                     "refresh_token": token["refresh_token"]})
    expect_error(old, "invalid_client", status=401)
    fresh = Client(world, app, "openid orders:read", auth_method="client_secret_basic", secret=new_secret)
    try:
        renewed = fresh.refresh(token["refresh_token"])
    finally:
        fresh.close()
    assert REFRESH_TOKEN.match(renewed.get("refresh_token", "")), renewed
    assert verify_access_token(world, renewed["access_token"])["sub"] == world.alice.user_id


def test_a_private_app_is_refused_to_people_of_other_tenants(world: World, browser: Browser):
    app = world.app("confidential", visibility="private")
    url = authorize_url(world, app, state="outsider")
    arrival = authorize(browser, url, app, world.bob)
    assert arrival.steps == ["signin", "return-page"], (
        f"no consent page for an app Bob may not use, and a page before going back: {arrival}")
    params = arrival.params
    assert params.get("error") == "access_denied" and "code" not in params, params
    assert params.get("state") == "outsider" and params.get("iss") == world.issuer, params

    # Nor by answering a consent page he was never shown.
    shown = browser.get("/consent?" + urlsplit(url).query)
    assert shown.status_code < 500, describe(shown)
    assert Page(shown.text).form_with(decision="allow") is None, (
        f"Bob is offered Allow: {Page(shown.text).text[:300]!r}")
    decide = _decide_consent_action(world)
    answer = browser.post(decide, {"query": urlsplit(url).query, "decision": "allow"})
    if answer.status_code in REDIRECTS:
        sent = location(answer)
        assert "code=" not in sent, sent
        if urlsplit(sent).path == "/consent":  # the refusal, with its one link back
            refusal = browser.get(sent)
            page = Page(refusal.text)
            assert page.form_with(decision="allow") is None, page.text[:300]
            host = urlsplit(app.callback).hostname
            back = [href for href, text in page.links if text == f"Return to {host}"]
            assert len(back) == 1 and query_of(back[0]).get("error") == "access_denied", page.links
        else:
            assert query_of(sent).get("error") == "access_denied", sent
    else:
        assert answer.status_code >= 400 and "code=" not in answer.text, describe(answer)


def _decide_consent_action(world: World) -> str:
    """The URL the consent page's forms post to, read from a consent page Alice is shown."""
    app = world.app("confidential")
    person = Browser(world)
    try:
        person.sign_in(world.alice)
        resp, page = person.page("/consent?" + urlsplit(authorize_url(world, app)).query)
        form = page.form_with(decision="allow")
        assert form is not None, page.text[:300]
        return urljoin(resp.url, form.action)
    finally:
        person.close()


def test_a_public_app_may_be_authorised_by_anyone(world: World, browser: Browser):
    app = world.app("public", visibility="public")
    client = Client(world, app, "openid email")
    try:
        url = client.authorization_url()
        arrival = authorize(browser, url, app, world.bob)
        assert arrival.steps == ["signin", "consent"], arrival
        token = client.fetch_token(arrival.url)
    finally:
        client.close()
    claims = verify_access_token(world, token["access_token"])
    assert claims["sub"] == world.bob.user_id and claims["iss"] == world.issuer, claims
    assert claims["tenant"] == world.bob.tenant_id, f"tenant is the person's tenant (SPEC §3a): {claims}"
    id_claims = verify_id_token(world, token["id_token"], app.client_id, client.nonce)
    assert id_claims.get("email") == world.bob.email, id_claims


def test_prompt_none_login_and_consent(world: World, browser: Browser):
    app = world.app("confidential")
    none = authorize(browser, authorize_url(world, app, prompt="none", state="p1"), app, None)
    assert none.steps == ["return-page"] and none.params.get("error") == "login_required", none
    assert none.params.get("state") == "p1" and none.params.get("iss") == world.issuer, none.params

    browser.sign_in(world.alice)
    needs = authorize(browser, authorize_url(world, app, prompt="none", state="p2"), app, world.alice)
    assert needs.steps == [] and needs.params.get("error") == "consent_required", needs
    assert needs.params.get("state") == "p2", needs.params

    given = authorize(browser, authorize_url(world, app), app, world.alice)
    assert given.steps == ["consent"] and "code" in given.params, given
    silent = authorize(browser, authorize_url(world, app, prompt="none"), app, world.alice)
    assert silent.steps == [] and "code" in silent.params, silent
    asked = authorize(browser, authorize_url(world, app, prompt="consent"), app, world.alice)
    assert asked.steps == ["consent"] and "code" in asked.params, asked
    relogin = authorize(browser, authorize_url(world, app, prompt="login"), app, world.alice)
    assert relogin.steps == ["signin"] and "code" in relogin.params, relogin
    for arrival in (given, silent, asked, relogin):
        world.keep("an authorization code", arrival.params["code"])


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example", "/\\evil.example", "/\\/evil.example",
    "https:evil.example", "javascript:alert(1)", "/\t/evil.example",
])
def test_sign_in_never_sends_the_browser_off_this_site(world: World, browser: Browser, target: str):
    resp, page = browser.page("/signin?next=" + quote(target, safe=""))
    form = page.form_with(email=None, password=None)
    assert form is not None, page.forms
    assert form.inputs.get("next") in (None, "", "/apps"), (
        f"the sign-in page carries next={form.inputs.get('next')!r} on to its form")
    answer = browser.post(urljoin(resp.url, form.action),
                          {**form.inputs, "email": world.alice.email, "password": PASSWORD})
    assert answer.status_code in REDIRECTS, describe(answer)
    assert answer.headers["Location"] in ("/apps", f"{world.public_url}/apps"), (
        f"signing in from /signin?next={target!r} must land on /apps: {describe(answer)}")

    # Posted by hand with the bad `next`, too.
    browser.http.cookies.clear()
    answer = browser.post(urljoin(resp.url, form.action),
                          {"email": world.alice.email, "password": PASSWORD, "next": target})
    assert answer.status_code in REDIRECTS, describe(answer)
    assert answer.headers["Location"] in ("/apps", f"{world.public_url}/apps"), describe(answer)


def test_sign_in_honours_a_next_path_on_this_site(world: World, browser: Browser):
    resp, page = browser.page("/signin?next=" + quote("/connected", safe=""))
    form = page.form_with(email=None, password=None, next="/connected")
    assert form is not None, f"the sign-in page keeps next=/connected: {page.forms}"
    answer = browser.post(urljoin(resp.url, form.action),
                          {**form.inputs, "email": world.alice.email, "password": PASSWORD})
    assert answer.status_code in REDIRECTS and answer.headers["Location"] == "/connected", describe(answer)


def test_server_log_shows_no_credentials(world: World):
    """Last on purpose: stops the server, then looks for every code, token, secret and password
    the tests saw in its whole log."""
    world.server.other_secrets.extend(world.credentials)
    world.server.stop()
    assert len(world.server.log_lines) > 1, world.server.log_tail()
    world.server.check_logs()

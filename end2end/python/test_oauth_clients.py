"""Keyport against OAuth/JWT clients we did not write: authlib's OAuth2Session gets the tokens,
PyJWT's PyJWKClient verifies them against the discovery document's jwks_uri, and plain `requests`
drives introspection (RFC 7662) and revocation (RFC 7009).

Tests run in file order against one server (conftest.py); the last one stops it and checks its
log for leaked credentials.
"""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from conftest import HTTP_TIMEOUT_S, SCOPES, Keyport

ACCESS_TOKEN_TTL_S = 3600
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


# ---------------------------------------------------------------------------------------------
# helpers


def describe(resp: requests.Response | None) -> str:
    if resp is None:
        return "no HTTP response was received"
    interesting = {
        k: v
        for k, v in resp.headers.items()
        if k.lower() in ("content-type", "cache-control", "www-authenticate", "pragma")
    }
    return (
        f"{resp.request.method} {resp.url} -> HTTP {resp.status_code}, headers {interesting}, "
        f"body {resp.text[:500]!r}"
    )


def authlib_session(
    keyport: Keyport, auth_method: str, scope: str | None = None, secret: str | None = None
) -> tuple[OAuth2Session, list[requests.Response]]:
    """An authlib session for the test client; also returns the list that collects the raw
    token-endpoint responses (authlib hands them to the `access_token_response` hook before it
    parses them), so assertions can look at status and headers."""
    session = OAuth2Session(
        keyport.client_id,
        secret if secret is not None else keyport.client_secret,
        scope=scope,
        token_endpoint_auth_method=auth_method,
        default_timeout=HTTP_TIMEOUT_S,
    )
    session.trust_env = False  # loopback only: no proxies, no ~/.netrc credentials
    responses: list[requests.Response] = []

    def keep(resp: requests.Response) -> requests.Response:
        responses.append(resp)
        return resp

    session.register_compliance_hook("access_token_response", keep)
    return session, responses


def fetch_token(keyport: Keyport, discovery: dict, auth_method: str, scope: str | None = None):
    """client_credentials through authlib; returns (token dict, raw response)."""
    session, responses = authlib_session(keyport, auth_method, scope)
    try:
        token = session.fetch_token(discovery["token_endpoint"], grant_type="client_credentials")
    except Exception as err:  # noqa: BLE001 - report whatever authlib raised, with the response
        pytest.fail(
            f"authlib fetch_token ({auth_method}, scope={scope!r}) raised {err!r}; "
            + describe(responses[-1] if responses else None)
        )
    finally:
        session.close()
    resp = responses[-1]
    if "access_token" in token:
        keyport.issued_tokens.append(token["access_token"])
    assert resp.status_code == 200, f"token request did not succeed: {describe(resp)}"
    assert "access_token" in token, f"no access_token in the token response: {describe(resp)}"
    return token, resp


def expect_token_error(
    keyport: Keyport,
    discovery: dict,
    auth_method: str,
    *,
    scope: str | None = None,
    secret: str | None = None,
) -> tuple[OAuthError, requests.Response]:
    session, responses = authlib_session(keyport, auth_method, scope, secret)
    try:
        token = session.fetch_token(discovery["token_endpoint"], grant_type="client_credentials")
    except OAuthError as err:
        return err, responses[-1]
    except Exception as err:  # noqa: BLE001
        pytest.fail(
            f"expected authlib to raise OAuthError (an RFC 6749 §5.2 JSON error), it raised {err!r}; "
            + describe(responses[-1] if responses else None)
        )
    finally:
        session.close()
    if "access_token" in token:
        keyport.issued_tokens.append(token["access_token"])
    pytest.fail(f"the token request was expected to fail but succeeded: {describe(responses[-1])}")


def wrong_secret(secret: str) -> str:
    """Same shape as the real secret, different ending (so it does not contain the real one)."""
    tail = "AAAA" if not secret.endswith("AAAA") else "BBBB"
    return secret[:-4] + tail


def verify_access_token(keyport: Keyport, discovery: dict, jwks_client: jwt.PyJWKClient, token: str):
    """Checks the RFC 9068 header and verifies signature, iss and aud with PyJWT; returns the claims."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as err:
        pytest.fail(f"the access token is not a JWT ({err}): {token[:60]}...")
    assert header.get("typ") == "at+jwt", f"JWT header typ should be 'at+jwt' (RFC 9068): {header}"
    assert header.get("alg") == "ES256", f"JWT header alg should be ES256 by default: {header}"
    assert header.get("kid"), f"JWT header has no kid: {header}"

    try:
        signing_key = jwks_client.get_signing_key_from_jwt(token)
    except jwt.PyJWKClientError as err:
        try:
            kids = [k.key_id for k in jwks_client.get_jwk_set(refresh=True).keys]
        except Exception as inner:  # noqa: BLE001
            kids = f"(JWKS unreadable: {inner!r})"
        pytest.fail(
            f"PyJWKClient found no key for kid {header.get('kid')!r} at {discovery['jwks_uri']}: "
            f"{err}; the JWKS has kids {kids}"
        )

    audience = f"{keyport.public_url}/tenants/{keyport.tenant_id}"
    try:
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["ES256"],
            audience=audience,
            issuer=keyport.issuer,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
        )
    except jwt.InvalidTokenError as err:
        unverified = jwt.decode(token, options={"verify_signature": False})
        pytest.fail(
            f"PyJWT rejected the access token: {type(err).__name__}: {err}\n"
            f"expected iss={keyport.issuer!r} aud={audience!r}; claims: {unverified}"
        )

    assert claims["sub"] == keyport.client_id, f"sub should be the client id: {claims}"
    assert claims.get("client_id") == keyport.client_id, f"client_id claim wrong: {claims}"
    assert claims.get("tenant") == keyport.tenant_id, f"tenant claim should be the tenant id: {claims}"
    assert claims["aud"] == audience, f"aud should be the single string {audience!r}: {claims}"
    assert claims["exp"] - claims["iat"] == ACCESS_TOKEN_TTL_S, f"exp - iat should be 3600: {claims}"
    assert abs(claims["iat"] - time.time()) < 120, f"iat is not about now: {claims}"
    assert isinstance(claims["jti"], str) and claims["jti"], f"jti missing or empty: {claims}"
    assert isinstance(claims.get("scope"), str), f"scope claim missing or not a string: {claims}"
    return claims


# ---------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(scope="module")
def jwks_client(discovery: dict) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(discovery["jwks_uri"], timeout=HTTP_TIMEOUT_S)


@pytest.fixture
def http(keyport: Keyport):
    with requests.Session() as session:
        session.trust_env = False
        yield session


# ---------------------------------------------------------------------------------------------
# tests


def test_discovery_document(keyport: Keyport, discovery: dict, http: requests.Session):
    issuer = keyport.issuer
    assert issuer == f"{keyport.public_url}/t/{keyport.tenant_id}", issuer
    assert discovery["issuer"] == issuer, f"issuer should be {issuer!r}: {discovery}"
    expected = {
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/jwks.json",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
    }
    wrong = {k: discovery.get(k) for k, v in expected.items() if discovery.get(k) != v}
    assert not wrong, f"discovery endpoints differ from {expected}: {wrong}"
    assert "client_credentials" in discovery.get("grant_types_supported", []), discovery
    methods = set(discovery.get("token_endpoint_auth_methods_supported", []))
    assert {"client_secret_basic", "client_secret_post"} <= methods, (
        f"token_endpoint_auth_methods_supported lacks basic/post: {sorted(methods)}"
    )
    assert "scopes_supported" in discovery, f"no scopes_supported: {discovery}"

    # There is no server-wide issuer: the root documents say where the tenant's are.
    for root in ("oauth-authorization-server", "openid-configuration"):
        resp = http.get(f"{keyport.public_url}/.well-known/{root}", timeout=HTTP_TIMEOUT_S)
        assert resp.status_code == 404, describe(resp)
        assert "/t/{tenant_id}/.well-known/openid-configuration" in resp.json()["error_description"]

    oidc = http.get(f"{issuer}/.well-known/openid-configuration", timeout=HTTP_TIMEOUT_S)
    assert oidc.status_code == 200, describe(oidc)
    assert oidc.json() == discovery, "openid-configuration differs from oauth-authorization-server"

    jwks = http.get(discovery["jwks_uri"], timeout=HTTP_TIMEOUT_S)
    assert jwks.status_code == 200, describe(jwks)
    keys = jwks.json().get("keys")
    assert isinstance(keys, list) and keys, f"the JWKS has no keys: {jwks.text[:500]}"
    for key in keys:
        assert key.get("kid"), f"a JWKS key has no kid: {key}"
        leaked = PRIVATE_JWK_MEMBERS & key.keys()
        assert not leaked, f"the JWKS publishes private key members {sorted(leaked)}: kid {key.get('kid')}"


def test_client_secret_basic_token_verifies_with_pyjwt(
    keyport: Keyport, discovery: dict, jwks_client: jwt.PyJWKClient
):
    token, resp = fetch_token(keyport, discovery, "client_secret_basic", scope="orders:read")
    assert "no-store" in resp.headers.get("Cache-Control", ""), (
        f"token response must carry Cache-Control: no-store: {describe(resp)}"
    )
    assert token.get("token_type") == "Bearer", f"token_type should be 'Bearer': {describe(resp)}"
    assert token.get("expires_in") == ACCESS_TOKEN_TTL_S, f"expires_in should be 3600: {describe(resp)}"
    assert token.get("scope") == "orders:read", f"granted scope should be orders:read: {describe(resp)}"

    claims = verify_access_token(keyport, discovery, jwks_client, token["access_token"])
    assert claims["scope"] == "orders:read", f"scope claim should be 'orders:read': {claims}"


def test_client_secret_post_token_defaults_to_all_scopes(
    keyport: Keyport, discovery: dict, jwks_client: jwt.PyJWKClient
):
    token, resp = fetch_token(keyport, discovery, "client_secret_post")
    assert "no-store" in resp.headers.get("Cache-Control", ""), describe(resp)
    assert token.get("token_type") == "Bearer", describe(resp)
    assert set(str(token.get("scope", "")).split()) == set(SCOPES), (
        f"without a scope parameter every allowed scope {SCOPES} should be granted: {describe(resp)}"
    )

    claims = verify_access_token(keyport, discovery, jwks_client, token["access_token"])
    assert set(claims["scope"].split()) == set(SCOPES), f"scope claim should hold {SCOPES}: {claims}"

    again, _ = fetch_token(keyport, discovery, "client_secret_post")
    assert again["access_token"] != token["access_token"], "two token requests got the same token"
    assert jwt.decode(again["access_token"], options={"verify_signature": False})["jti"] != claims["jti"], (
        "two tokens share a jti"
    )


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_wrong_secret_is_invalid_client(keyport: Keyport, discovery: dict, auth_method: str):
    secret = wrong_secret(keyport.client_secret)
    keyport.attempted_secrets.append(secret)
    err, resp = expect_token_error(keyport, discovery, auth_method, secret=secret)
    assert err.error == "invalid_client", f"error should be invalid_client, got {err!r}: {describe(resp)}"
    assert resp.status_code == 401, f"invalid_client should be HTTP 401: {describe(resp)}"
    assert "no-store" in resp.headers.get("Cache-Control", ""), (
        f"token-endpoint errors carry Cache-Control: no-store too (SPEC §3): {describe(resp)}"
    )
    challenge = resp.headers.get("WWW-Authenticate", "")
    if auth_method == "client_secret_basic":
        assert challenge.startswith("Basic") and 'realm="keyport"' in challenge, (
            f'Basic was tried, so the 401 needs WWW-Authenticate: Basic realm="keyport": {describe(resp)}'
        )


def test_scope_not_allowed_is_invalid_scope(keyport: Keyport, discovery: dict):
    err, resp = expect_token_error(keyport, discovery, "client_secret_basic", scope="orders:delete")
    assert err.error == "invalid_scope", f"error should be invalid_scope, got {err!r}: {describe(resp)}"
    assert resp.status_code == 400, f"invalid_scope should be HTTP 400: {describe(resp)}"


def test_introspect_revoke_introspect(
    keyport: Keyport, discovery: dict, jwks_client: jwt.PyJWKClient, http: requests.Session
):
    token, _ = fetch_token(keyport, discovery, "client_secret_basic", scope="orders:write")
    access_token = token["access_token"]
    claims = verify_access_token(keyport, discovery, jwks_client, access_token)
    introspect_url = discovery.get("introspection_endpoint")
    revoke_url = discovery.get("revocation_endpoint")
    assert introspect_url and revoke_url, f"discovery lacks introspection/revocation endpoints: {discovery}"
    basic = (keyport.client_id, keyport.client_secret)

    def introspect(tok: str, **kwargs) -> dict:
        resp = http.post(introspect_url, data={"token": tok, **kwargs.pop("data", {})},
                         timeout=HTTP_TIMEOUT_S, **kwargs)
        assert resp.status_code == 200, f"introspection failed: {describe(resp)}"
        return resp.json()

    active = introspect(access_token, auth=basic)
    expected = {
        "active": True,
        "token_type": "Bearer",
        **{k: claims[k] for k in ("client_id", "scope", "sub", "aud", "iss", "exp", "iat", "jti", "tenant")},
    }
    wrong = {k: (active.get(k), v) for k, v in expected.items() if active.get(k) != v}
    assert not wrong, f"introspection (got, expected) differ from the token's claims: {wrong}; {active}"

    # Client authentication in the body works as at the token endpoint.
    by_post = introspect(access_token, data={"client_id": keyport.client_id,
                                             "client_secret": keyport.client_secret})
    assert by_post == active, f"introspection with client_secret_post differs: {by_post} vs {active}"

    # Unknown tokens are just inactive; no client authentication is refused.
    assert introspect("not-a-token", auth=basic) == {"active": False}
    anonymous = http.post(introspect_url, data={"token": access_token}, timeout=HTTP_TIMEOUT_S)
    assert anonymous.status_code == 401, f"introspection without client auth must be 401: {describe(anonymous)}"

    revoked = http.post(revoke_url, data={"token": access_token}, auth=basic, timeout=HTTP_TIMEOUT_S)
    assert revoked.status_code == 200, f"revocation failed: {describe(revoked)}"
    after = introspect(access_token, auth=basic)
    assert after == {"active": False}, f"a revoked token must introspect as exactly {{'active': false}}: {after}"

    unknown = http.post(revoke_url, data={"token": "not-a-token"}, auth=basic, timeout=HTTP_TIMEOUT_S)
    assert unknown.status_code == 200, f"revoking an unknown token must answer 200 (RFC 7009): {describe(unknown)}"


def test_server_log_shows_no_credentials(keyport: Keyport):
    """Last on purpose: stops the server so its whole log (shutdown included) is checked."""
    keyport.stop()
    assert len(keyport.log_lines) > 1, (
        f"only {len(keyport.log_lines)} log line(s) captured; is request logging on? "
        f"{keyport.log_tail()}"
    )
    keyport.check_logs()

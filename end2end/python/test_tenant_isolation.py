"""Each tenant is its own trust domain (SPEC §1 "issuer"), seen from a resource server we did not
write: PyJWT, configured only from tenant V's discovery document (issuer, jwks_uri) and V's
audience, refuses every token that tenant M can obtain, whatever audiences and roles M gives its
own apps or its tenant, and accepts V's own tokens. Runs on SQLite, and on PostgreSQL when
KEYPORT_TEST_POSTGRES_URL names a server (CI sets it).
"""

from __future__ import annotations


import jwt
import pytest
import requests

from conftest import HTTP_TIMEOUT_S, Keyport, create_client, server_on_engine


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    yield from server_on_engine(request.param, tmp_path_factory, "keyport-iso")


def post(url: str, **kwargs) -> requests.Response:
    return requests.post(url, timeout=HTTP_TIMEOUT_S, **kwargs)


def token(public_url: str, client: dict, **params: str) -> requests.Response:
    return post(
        f"{public_url}/oauth/token",
        auth=(client["client_id"], client["client_secret"]),
        data={"grant_type": "client_credentials", **params},
    )


def management_token(public_url: str, tool: dict) -> str:
    resp = token(public_url, tool, resource=f"{public_url}/api/v1")
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


class ResourceServer:
    """An API of tenant V, configured the RFC 9068 way from V's discovery document."""

    def __init__(self, discovery_url: str, audience: str):
        doc = requests.get(discovery_url, timeout=HTTP_TIMEOUT_S)
        assert doc.status_code == 200, doc.text
        self.issuer = doc.json()["issuer"]
        self.jwks = jwt.PyJWKClient(doc.json()["jwks_uri"], timeout=HTTP_TIMEOUT_S)
        self.audience = audience

    def accepts(self, access_token: str) -> dict | None:
        """The claims if this API accepts the token, else None."""
        try:
            if jwt.get_unverified_header(access_token).get("typ") != "at+jwt":
                return None
            key = self.jwks.get_signing_key_from_jwt(access_token)
            return jwt.decode(
                access_token, key.key, algorithms=["ES256", "EdDSA", "RS256"],
                issuer=self.issuer, audience=self.audience,
                options={"require": ["iss", "aud", "exp", "sub"]},
            )
        except jwt.PyJWTError:
            return None


def test_no_token_tenant_m_can_obtain_passes_tenant_v_s_checks(server: Keyport):
    url = server.public_url
    db = server.database_url
    v_service = create_client(["--tenant", "victim", "--create-tenant", "--name", "orders"], db)
    v_tool = create_client(["--tenant", "victim", "--name", "v-admin", "--tool", "--role", "admin"], db)
    m_tool = create_client(["--tenant", "mallory", "--create-tenant", "--name", "m-admin",
                            "--tool", "--role", "admin"], db)
    v, m = v_service["tenant_id"], m_tool["tenant_id"]
    assert v != m
    server.other_secrets += [("v", v_service["client_secret"]), ("m", m_tool["client_secret"])]

    # V's resource server is configured from what V's admin sees: the tenant's discovery URL
    # and default audience (GET /api/v1/tenant, as Settings → Tenant shows them).
    v_admin = management_token(url, v_tool)
    v_tenant = requests.get(f"{url}/api/v1/tenant", timeout=HTTP_TIMEOUT_S,
                            headers={"Authorization": f"Bearer {v_admin}"}).json()
    assert v_tenant["issuer"] == f"{url}/t/{v}"
    api = ResourceServer(v_tenant["discovery_url"], v_tenant["audience"])
    assert api.issuer == f"{url}/t/{v}"

    v_token = token(url, v_service)
    assert v_token.status_code == 200, v_token.text
    assert api.accepts(v_token.json()["access_token"]), "V's own token is accepted"

    # Everything M may try to make its tokens look like V's.
    m_admin = management_token(url, m_tool)
    as_m = {"Authorization": f"Bearer {m_admin}"}
    stolen = [v_tenant["audience"], api.issuer, f"{url}/tenants/{v}", url, f"{url}/",
              f"{url}/api/v1"]
    for audience in stolen:
        resp = post(f"{url}/api/v1/apps", headers=as_m,
                    json={"name": "forger", "audiences": [audience], "roles": ["admin"]})
        assert resp.status_code in (403, 409, 422), f"{audience}: {resp.status_code} {resp.text}"
        resp = requests.patch(f"{url}/api/v1/tenant", headers=as_m, json={"audience": audience},
                              timeout=HTTP_TIMEOUT_S)
        assert resp.status_code in (403, 409, 422), f"{audience}: {resp.status_code} {resp.text}"
    created = post(f"{url}/api/v1/apps", headers=as_m,
                   json={"name": "forger", "audiences": ["https://api.mallory.example"],
                         "roles": ["admin"]})
    assert created.status_code == 201, created.text
    forger = {"client_id": created.json()["client_id"],
              "client_secret": created.json()["client_secret"]}
    server.other_secrets.append(("forger", forger["client_secret"]))

    obtained = []
    for client in (m_tool, forger):
        asks = [{}, {"audience": "https://api.mallory.example"}, {"resource": f"{url}/api/v1"}]
        asks += [{param: a} for a in stolen for param in ("audience", "resource")]
        for params in asks:
            resp = token(url, client, **params)
            if resp.status_code == 200:
                obtained.append((client["client_id"], params, resp.json()["access_token"]))
            else:
                assert resp.json()["error"] in ("invalid_target", "invalid_request"), resp.text
        # V's own token endpoint does not serve M's clients at all.
        resp = post(f"{url}/t/{v}/oauth/token", auth=(client["client_id"], client["client_secret"]),
                    data={"grant_type": "client_credentials"})
        assert resp.status_code == 401, resp.text
    assert len(obtained) >= 4, "M got its ordinary tokens"
    accepted = [(cid, params) for cid, params, t in obtained if api.accepts(t)]
    assert not accepted, f"V's API accepted M's tokens: {accepted}"
    server.issued_tokens += [t for *_, t in obtained]

"""`/metrics` as Prometheus reads it: scraped and parsed by prometheus_client's own parser after
real authlib token requests, wrong secrets and throttling, the counts are exactly what was sent,
and no label names the client or its tenant.

Tests run in file order against one fresh server (conftest.py), so every count starts at zero.
"""

from __future__ import annotations

import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from prometheus_client.parser import text_string_to_metric_families

from conftest import HTTP_TIMEOUT_S, Keyport

ISSUED = 3  # tokens per authentication method
FAILURES_PER_CLIENT_AND_ADDRESS = 10  # app::services::oauth::FAILURES_PER_CLIENT_AND_ADDRESS
TOKEN_ROUTE = "/t/{tenant}/oauth/token"  # the discovery document's token endpoint, as a template

Samples = list[tuple[str, dict[str, str], float]]


def scrape(keyport: Keyport) -> Samples:
    resp = requests.get(f"{keyport.public_url}/metrics", timeout=HTTP_TIMEOUT_S)
    assert resp.status_code == 200, f"GET /metrics answered {resp.status_code}: {resp.text[:300]}"
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4"), resp.headers
    assert resp.headers["cache-control"] == "no-store", resp.headers
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(resp.text)
        for sample in family.samples
    ]


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples called `name` having all of `labels`; a missing series fails."""
    matching = [v for n, have, v in samples
                if n == name and all(have.get(k) == want for k, want in labels.items())]
    assert matching, f"no sample {name}{labels} in the scrape: " + ", ".join(
        f"{n}{have}" for n, have, _ in samples if n == name)
    return sum(matching)


def token_request(keyport: Keyport, token_endpoint: str, auth_method: str, secret: str):
    """client_credentials through authlib: the token dict, or the OAuthError it raised, and the
    raw response."""
    session = OAuth2Session(
        keyport.client_id, secret, token_endpoint_auth_method=auth_method,
        default_timeout=HTTP_TIMEOUT_S,
    )
    session.trust_env = False
    responses: list[requests.Response] = []
    session.register_compliance_hook("access_token_response", lambda r: responses.append(r) or r)
    try:
        result = session.fetch_token(token_endpoint, grant_type="client_credentials")
        keyport.issued_tokens.append(result["access_token"])
    except OAuthError as err:
        result = err
    finally:
        session.close()
    return result, responses[-1]


@pytest.fixture(scope="module")
def wrong(keyport: Keyport) -> str:
    """A secret of the right shape that is not the client's."""
    secret = keyport.client_secret[:-4] + ("AAAA" if not keyport.client_secret.endswith("AAAA")
                                           else "BBBB")
    keyport.attempted_secrets.append(secret)
    return secret


def test_issued_tokens_and_failed_authentications_are_counted(
    keyport: Keyport, discovery: dict, wrong: str
):
    endpoint = discovery["token_endpoint"]
    for method in ("client_secret_basic", "client_secret_post"):
        for _ in range(ISSUED):
            token, resp = token_request(keyport, endpoint, method, keyport.client_secret)
            assert resp.status_code == 200 and "access_token" in token, resp.text[:300]
    failures = 4
    for _ in range(failures):
        err, resp = token_request(keyport, endpoint, "client_secret_basic", wrong)
        assert isinstance(err, OAuthError) and err.error == "invalid_client", resp.text[:300]
        assert resp.status_code == 401

    samples = scrape(keyport)
    tokens = "keyport_token_requests_total"
    assert value(samples, tokens, grant="client_credentials", outcome="issued") == 2 * ISSUED
    assert value(samples, tokens, grant="client_credentials", outcome="invalid_client") == failures
    assert value(samples, tokens) == 2 * ISSUED + failures, "nothing else was counted"
    assert value(samples, "keyport_token_request_duration_seconds_count") == 2 * ISSUED + failures
    failed = "keyport_client_authentication_failures_total"
    assert value(samples, failed, reason="bad_secret") == failures
    assert value(samples, failed) == failures
    http = "keyport_http_requests_total"
    assert value(samples, http, route=TOKEN_ROUTE, method="POST", status="2xx") == 2 * ISSUED
    assert value(samples, http, route=TOKEN_ROUTE, method="POST", status="4xx") == failures
    assert value(samples, "keyport_throttled_requests_total") == 0
    assert value(samples, "keyport_build_info") == 1


def test_throttled_requests_are_counted_as_the_429s_seen(
    keyport: Keyport, discovery: dict, wrong: str
):
    endpoint = discovery["token_endpoint"]
    statuses = []
    # 4 failures so far; 6 more reach the limit, the 2 after it are refused with 429.
    for _ in range(FAILURES_PER_CLIENT_AND_ADDRESS - 4 + 2):
        _, resp = token_request(keyport, endpoint, "client_secret_post", wrong)
        statuses.append(resp.status_code)
    assert statuses == [401] * 6 + [429] * 2, statuses
    token, resp = token_request(keyport, endpoint, "client_secret_basic", keyport.client_secret)
    assert resp.status_code == 200, "the right secret is never throttled"

    samples = scrape(keyport)
    throttled = statuses.count(429)
    assert value(samples, "keyport_throttled_requests_total",
                 limit="client_authentication") == throttled
    tokens = "keyport_token_requests_total"
    assert value(samples, tokens, grant="client_credentials", outcome="throttled") == throttled
    assert value(samples, tokens, grant="client_credentials", outcome="invalid_client") == 10
    assert value(samples, tokens, grant="client_credentials", outcome="issued") == 2 * ISSUED + 1
    assert value(samples, "keyport_client_authentication_failures_total") == 10
    total = value(samples, tokens)
    assert value(samples, "keyport_token_request_duration_seconds_count") == total


def test_no_label_names_the_client_or_its_tenant(keyport: Keyport):
    for name, labels, _ in scrape(keyport):
        for label, text in labels.items():
            for secret in (keyport.client_id, keyport.tenant_id, keyport.client_secret):
                assert secret not in text, f"{name} label {label}={text!r}"

"""Keyport's management API (SPEC section 4) against its own OpenAPI document, by Schemathesis.

A tool client with role `admin` gets an access token for `{public URL}/api/v1`; Schemathesis loads
GET /api/v1/openapi.json and calls every operation in it with that token, with generated input
(valid and invalid), and checks each answer: never a 5xx, a status code the operation documents,
the documented content type, a body that matches the documented schema, documented headers.

Bounded and reproducible: a fixed seed, derandomised generation, no example database, at most
KEYPORT_SCHEMATHESIS_EXAMPLES (default 20) fuzzed cases per operation plus the coverage phase's
deterministic boundary/negative cases; no stateful phase. KEYPORT_SCHEMATHESIS_CHECKS=all runs
every check Schemathesis enables by default instead (stricter: e.g. invalid input must get a
4xx, valid input a 2xx, auth must not be ignored).

Generated path parameters rarely name anything that exists, so about half of the positive cases
are pointed at real objects (an app, its current secret, a fresh app or scope to delete): the
success answers get checked too, not only the 404s. Fuzzed DELETE/PATCH may remove or change
anything except the tool client the test calls with (each run has a fresh database).
"""

from __future__ import annotations

import itertools
import os
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import hypothesis.configuration
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import HTTP_TIMEOUT_S, Keyport, create_client

# Hypothesis keeps caches (unicode tables, constants) in ./.hypothesis: not in the work tree.
hypothesis.configuration.set_hypothesis_home_dir(
    os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
    or Path(tempfile.gettempdir()) / "keyport-hypothesis"
)

SEED = 20261124
MAX_EXAMPLES = int(os.environ.get("KEYPORT_SCHEMATHESIS_EXAMPLES", "20"))
# The checks asked of every answer. `None`: every check Schemathesis enables by default.
CHECKS = (
    None
    if os.environ.get("KEYPORT_SCHEMATHESIS_CHECKS") == "all"
    else [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        response_headers_conformance,
    ]
)

# SPEC section 4: every operation the document must describe, so that all of them get tested.
SPEC_OPERATIONS = {
    ("GET", "/api/v1/apps"),
    ("POST", "/api/v1/apps"),
    ("GET", "/api/v1/apps/{client_id}"),
    ("PATCH", "/api/v1/apps/{client_id}"),
    ("DELETE", "/api/v1/apps/{client_id}"),
    ("GET", "/api/v1/apps/{client_id}/secrets"),
    ("POST", "/api/v1/apps/{client_id}/secrets"),
    ("POST", "/api/v1/apps/{client_id}/secrets/{secret_id}/refresh"),
    ("DELETE", "/api/v1/apps/{client_id}/secrets/{secret_id}"),
    ("GET", "/api/v1/audit"),
    ("GET", "/api/v1/tenant"),
    ("PATCH", "/api/v1/tenant"),
    ("GET", "/api/v1/scopes"),
    ("POST", "/api/v1/scopes"),
    ("DELETE", "/api/v1/scopes/{name}"),
    ("GET", "/api/v1/roles"),
    ("POST", "/api/v1/roles"),
    ("DELETE", "/api/v1/roles/{name}"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@dataclass
class Management:
    """The tool client the tests call the API as, its token, and the served OpenAPI document."""

    public_url: str
    tool_client_id: str
    token: str
    target_app: str  # an app (not the tool client) that fuzzed cases may read, change, add secrets to
    document: dict | None
    problem: str | None  # why `document` is None
    _counter: itertools.count = field(default_factory=itertools.count)

    def _api(self, method: str, path: str, body: dict | None = None):
        """A JSON answer of the API for setting up targets; None if it did not succeed."""
        try:
            resp = requests.request(
                method, f"{self.public_url}/api/v1{path}", json=body, timeout=HTTP_TIMEOUT_S,
                headers={"Authorization": f"Bearer {self.token}"},
            )
            return resp.json() if resp.ok else None
        except (requests.RequestException, ValueError):
            return None

    def live_secret(self) -> str | None:
        """The id of a secret of the target app that is neither revoked nor in its grace period."""
        secrets = self._api("GET", f"/apps/{self.target_app}/secrets")
        for secret in secrets if isinstance(secrets, list) else []:
            if isinstance(secret, dict) and not secret.get("revoked_at") and not secret.get("grace_until"):
                return secret.get("id")
        created = self._api("POST", f"/apps/{self.target_app}/secrets", {"description": "fuzz"})
        return created.get("id") if isinstance(created, dict) else None

    def new_app(self) -> str | None:
        created = self._api("POST", "/apps", {"name": f"fuzz-doomed-{next(self._counter)}"})
        return created.get("client_id") if isinstance(created, dict) else None

    def new_scope(self) -> str | None:
        created = self._api("POST", "/scopes", {"name": f"fuzz:doomed{next(self._counter)}"})
        return created.get("name") if isinstance(created, dict) else None

    def new_role(self) -> str | None:
        created = self._api("POST", "/roles", {"name": f"fuzz:doomed{next(self._counter)}"})
        return created.get("name") if isinstance(created, dict) else None


def describe(resp: requests.Response) -> str:
    return (
        f"{resp.request.method} {resp.url} -> HTTP {resp.status_code} "
        f"({resp.headers.get('content-type')}): {resp.text[:500]!r}"
    )


@pytest.fixture(scope="module")
def management(keyport: Keyport) -> Management:
    tool = create_client(
        ["--tenant", "acme", "--name", "deploy", "--tool", "--role", "admin"], keyport.database_url
    )
    keyport.other_secrets.append(("the tool client's secret", tool["client_secret"]))
    target = create_client(["--tenant", "acme", "--name", "fuzz-target"], keyport.database_url)
    keyport.other_secrets.append(("the fuzz target app's secret", target["client_secret"]))
    token_url = f"{keyport.public_url}/oauth/token"
    resp = requests.post(
        token_url,
        auth=(tool["client_id"], tool["client_secret"]),
        data={"grant_type": "client_credentials", "resource": f"{keyport.public_url}/api/v1"},
        timeout=HTTP_TIMEOUT_S,
    )
    try:
        token = resp.json()["access_token"]
    except (ValueError, KeyError, TypeError):
        pytest.fail(
            "the admin tool client got no management token (client_credentials, "
            f"resource={keyport.public_url}/api/v1): {describe(resp)}",
            pytrace=False,
        )
    keyport.issued_tokens.append(token)

    url = f"{keyport.public_url}/api/v1/openapi.json"
    doc_resp = requests.get(url, timeout=HTTP_TIMEOUT_S)
    document, problem = None, None
    if doc_resp.status_code != 200:
        problem = (
            f"keyport serves no OpenAPI document for the management API (SPEC section 4 wants one "
            f"at /api/v1/openapi.json): {describe(doc_resp)}"
        )
    else:
        try:
            document = doc_resp.json()
        except ValueError:
            problem = f"GET /api/v1/openapi.json is not JSON: {describe(doc_resp)}"
        else:
            if not isinstance(document, dict) or "openapi" not in document:
                problem = f"GET /api/v1/openapi.json is no OpenAPI document: {doc_resp.text[:500]!r}"
                document = None
    return Management(
        public_url=keyport.public_url,
        tool_client_id=tool["client_id"],
        token=token,
        target_app=target["client_id"],
        document=document,
        problem=problem,
    )


def test_openapi_document_is_served(management: Management):
    if management.problem:
        pytest.fail(management.problem, pytrace=False)
    version = str(management.document.get("openapi"))
    if not version.startswith("3.1"):
        pytest.fail(f"the document is OpenAPI {version}, not 3.1", pytrace=False)


def test_openapi_document_lists_every_spec_operation(management: Management):
    if management.problem:
        pytest.fail(management.problem, pytrace=False)
    paths = management.document.get("paths") or {}
    listed = {
        (method.upper(), path)
        for path, item in paths.items()
        if isinstance(item, dict)
        for method in item
        if method in HTTP_METHODS
    }
    missing = sorted(SPEC_OPERATIONS - listed)
    if missing:
        pytest.fail(
            "the OpenAPI document leaves out operations of SPEC section 4, so Schemathesis cannot "
            f"test them: {', '.join(f'{m} {p}' for m, p in missing)}",
            pytrace=False,
        )


def dangling_refs(document: dict) -> dict[str, list[str]]:
    """Local `$ref`s that point at nothing, each with where it is used."""

    def resolves(ref: str) -> bool:
        node = document
        for part in ref[2:].split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return False
        return True

    found: dict[str, list[str]] = {}

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#") and not resolves(ref):
                found.setdefault(ref, []).append(where)
            for key, value in node.items():
                walk(value, f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(document, "#")
    return found


def test_openapi_document_references_resolve(management: Management):
    """Schemathesis 4 silently skips validating a body whose schema is a dangling `$ref`."""
    if management.problem:
        pytest.fail(management.problem, pytrace=False)
    dangling = dangling_refs(management.document)
    if dangling:
        pytest.fail(
            "the OpenAPI document references schemas it does not define, so the bodies they "
            "describe go unchecked: "
            + "; ".join(f"{ref} ({len(uses)} uses, e.g. {uses[0]})" for ref, uses in dangling.items())
            + " -- register them (utoipa: #[openapi(components(schemas(...)))])",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def api_schema(keyport: Keyport, management: Management):
    if management.problem:
        pytest.fail(management.problem, pytrace=False)
    document = management.document
    # Paths are absolute (/api/v1/...) unless the document names a server to prefix them with.
    servers = document.get("servers") or [{"url": "/"}]
    base_url = urljoin(f"{keyport.public_url}/", str(servers[0].get("url", "/"))).rstrip("/")
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": base_url,
            "headers": {"Authorization": f"Bearer {management.token}"},
            "request-timeout": HTTP_TIMEOUT_S,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
        }
    )
    return schemathesis.openapi.from_dict(document, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


def aim_at_real_objects(case, management: Management) -> None:
    """Points about half of the cases whose path parameters were generated valid at objects
    that exist (chosen by a hash of the generated values, so a failing case replays the same)."""
    params = case.path_parameters
    if not params or case.meta is None:
        return
    component = case.meta.components.get(ParameterLocation.PATH)
    if component is not None and component.mode != schemathesis.GenerationMode.POSITIVE:
        return
    if zlib.crc32(repr(sorted(params.items())).encode()) % 2:
        return
    method, template = case.method.upper(), case.operation.path
    if template.endswith("/scopes/{name}"):
        real = {"name": management.new_scope()}
    elif template.endswith("/roles/{name}"):
        real = {"name": management.new_role()}
    elif template.endswith("/apps/{client_id}") and method == "DELETE":
        real = {"client_id": management.new_app()}
    elif "client_id" in params:
        real = {"client_id": management.target_app}
        if "secret_id" in params:
            real["secret_id"] = management.live_secret()
    else:
        return
    params.update({name: value for name, value in real.items() if value})


@schema.parametrize()
def test_management_api_conforms_to_its_openapi_document(case, management: Management):
    aim_at_real_objects(case, management)
    # The token must keep working: never delete the tool client, nor change its roles.
    if (
        case.method.upper() in ("DELETE", "PATCH")
        and case.operation.path.endswith("/apps/{client_id}")
        and (case.path_parameters or {}).get("client_id") == management.tool_client_id
    ):
        return
    case.call_and_validate(checks=CHECKS)

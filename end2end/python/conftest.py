"""Starts one real `keyport serve` on a fresh SQLite database for the tests of this directory.

KEYPORT_BIN picks the binary (default: ${CARGO_TARGET_DIR:-<repo>/target}/debug/keyport).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15
HTTP_TIMEOUT_S = 10
SCOPES = ("orders:read", "orders:write")

# The server is on loopback: never send these requests (nor PyJWKClient's urllib ones) to a proxy.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = ",".join(
    filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"])
)


def keyport_bin() -> Path:
    if os.environ.get("KEYPORT_BIN"):
        return Path(os.environ["KEYPORT_BIN"]).resolve()
    target = os.environ.get("CARGO_TARGET_DIR")
    target_dir = Path(target).resolve() if target else ROOT / "target"
    return target_dir / "debug" / "keyport"


def hermetic_env(**extra: str) -> dict[str, str]:
    """The caller's environment without its KEYPORT_* settings (an exported KEYPORT_ISSUER or
    KEYPORT_ADDR must not change what is tested), plus `extra`, and the master key a
    PostgreSQL database needs (SQLite keeps its own beside the database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYPORT_")}
    env.update(extra)
    database_url = env.get("KEYPORT_DATABASE_URL", "")
    if database_url.startswith("postgres"):
        env["KEYPORT_MASTER_KEY_FILE"] = str(master_key_file(database_url))
    return env


_POSTGRES_MASTER_KEY: list[Path] = []


def master_key_file(database_url: str) -> Path:
    """The master key of the server on `database_url`: the file keyport makes beside an SQLite
    database, or one key this test run makes for its PostgreSQL databases."""
    if database_url.startswith("sqlite://"):
        return Path(database_url.removeprefix("sqlite://")).with_suffix(".master-key")
    if not _POSTGRES_MASTER_KEY:
        import tempfile

        path = Path(tempfile.mkdtemp(prefix="keyport-master-key-")) / "master.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(base64.b64encode(os.urandom(32)).decode())
        _POSTGRES_MASTER_KEY.append(path)
    return _POSTGRES_MASTER_KEY[0]


@dataclass
class Keyport:
    """A running `keyport serve`, its app (client), and what the tests must not see in its logs."""

    process: subprocess.Popen
    # The server's public URL; each tenant's issuer is `{public_url}/t/{tenant_id}`.
    public_url: str
    database_url: str
    tenant_id: str
    client_id: str
    client_secret: str
    log_lines: list[str]
    reader: threading.Thread
    # Every access token any test obtained, and every wrong secret a test sent: the final test
    # checks that none of them (nor the real secret) shows up in the server's log.
    issued_tokens: list[str] = field(default_factory=list)
    attempted_secrets: list[str] = field(default_factory=list)
    # (name, secret) of the other clients' secrets that tests created (e.g. a tool client's).
    other_secrets: list[tuple[str, str]] = field(default_factory=list)
    logs_checked: bool = False

    @property
    def issuer(self) -> str:
        """The issuer of the test client's tenant: the `iss` of its tokens."""
        return f"{self.public_url}/t/{self.tenant_id}"

    def log_text(self) -> str:
        return "\n".join(self.log_lines)

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log_lines[-n:]) or "(no log lines)"

    def stop(self) -> int:
        """SIGTERM, wait for exit and for the log reader to drain stderr; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self.reader.join(5)
                pytest.fail(
                    f"keyport did not exit within {STOP_TIMEOUT_S}s of SIGTERM (killed it)\n"
                    f"last log lines:\n{self.log_tail()}"
                )
        self.reader.join(5)
        return self.process.returncode

    def credentials(self) -> list[tuple[str, str]]:
        """(name, text) of everything that must never be logged."""
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        found = [
            ("the client secret", self.client_secret),
            ("the client's HTTP Basic credentials (base64 of id:secret)", basic),
        ]
        found += [(f"wrong secret #{i + 1} that a test sent", s)
                  for i, s in enumerate(self.attempted_secrets)]
        found += self.other_secrets
        key = master_key_file(self.database_url)
        if key.is_file():
            found.append(("the master key", key.read_text().strip()))
        for i, token in enumerate(self.issued_tokens):
            found.append((f"access token #{i + 1}", token))
            signature = token.rsplit(".", 1)[-1]
            if len(signature) >= 16:
                found.append((f"the signature segment of access token #{i + 1}", signature))
        return [(name, text) for name, text in found if text]

    def check_logs(self) -> None:
        """Fails naming each credential found in the log, with the offending lines redacted."""
        self.logs_checked = True
        creds = self.credentials()
        leaked = [name for name, text in creds if any(text in line for line in self.log_lines)]
        if not leaked:
            return
        lines = [line for line in self.log_lines if any(text in line for _, text in creds)]
        shown = []
        for line in lines[:10]:
            for name, text in creds:
                line = line.replace(text, f"<{name}>")
            shown.append(line)
        pytest.fail(
            "keyport's log shows credentials: " + "; ".join(leaked)
            + f"\n{len(lines)} of {len(self.log_lines)} log lines leak, first ones (redacted):\n"
            + "\n".join(shown),
            pytrace=False,
        )

def run_keyport_cli(args: list[str], database_url: str) -> str:
    binary = keyport_bin()
    out = subprocess.run(
        [str(binary), *args],
        cwd=ROOT,
        env=hermetic_env(
            KEYPORT_DATABASE_URL=database_url, KEYPORT_LOG_LEVEL="warn", KEYPORT_LOG="warn"
        ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if out.returncode != 0:
        pytest.fail(
            f"`keyport {' '.join(args)}` exited with {out.returncode}\n"
            f"stdout: {out.stdout}\nstderr: {out.stderr}"
        )
    return out.stdout


def create_client(args: list[str], database_url: str) -> dict[str, str]:
    """`keyport client create ARGS` (the server may be running); its JSON line, checked."""
    created = run_keyport_cli(["client", "create", *args], database_url)
    try:
        client = json.loads(created.strip().splitlines()[-1])
        return {k: client[k] for k in ("tenant_id", "client_id", "client_secret")}
    except (ValueError, IndexError, KeyError, TypeError) as err:
        pytest.fail(f"`keyport client create` printed {created!r}, not the client JSON: {err!r}")


def start_server(database_url: str) -> tuple[subprocess.Popen, str, list[str], threading.Thread]:
    binary = keyport_bin()
    process = subprocess.Popen(
        [str(binary), "serve", "--addr", "127.0.0.1:0"],
        cwd=ROOT,
        env=hermetic_env(
            KEYPORT_DATABASE_URL=database_url,
            KEYPORT_LOG_FORMAT="json",
            KEYPORT_LOG_LEVEL="info",
            KEYPORT_LOG="info",
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    lines: list[str] = []
    listening = threading.Event()
    found: dict[str, str] = {}

    def read_stderr() -> None:
        # Runs until keyport closes stderr, so the pipe never fills; keeps every line.
        assert process.stderr is not None
        for raw in process.stderr:
            line = raw.rstrip("\n")
            lines.append(line)
            if listening.is_set():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue  # not JSON: a panic message or similar, kept for the failure report
            if isinstance(event, dict) and event.get("message") == "keyport listening":
                found["addr"] = str(event.get("addr", ""))
                found["public_url"] = str(event.get("public_url") or f"http://{found['addr']}")
                listening.set()
        listening.set()  # stderr closed: wake the waiter, which sees no "addr"

    reader = threading.Thread(target=read_stderr, name="keyport-stderr", daemon=True)
    reader.start()
    listening.wait(START_TIMEOUT_S)
    if "addr" not in found:
        if process.poll() is None:
            process.kill()
            why = f"did not log 'keyport listening' within {START_TIMEOUT_S}s"
        else:
            why = f"exited with {process.returncode} before listening"
        process.wait()
        reader.join(5)
        pytest.fail(f"keyport serve {why}:\n" + ("\n".join(lines) or "(no output)"))
    return process, found["public_url"].rstrip("/"), lines, reader


@pytest.fixture(scope="module")
def keyport(tmp_path_factory: pytest.TempPathFactory):
    binary = keyport_bin()
    if not binary.is_file():
        pytest.fail(
            f"keyport binary not found at {binary}: build it first (`make e2e-build`, which runs `cargo leptos build --split`), "
            "or point KEYPORT_BIN at it"
        )
    database_url = f"sqlite://{tmp_path_factory.mktemp('keyport-py')}/keyport.db"
    process, public_url, lines, reader = start_server(database_url)
    server = Keyport(
        process=process,
        public_url=public_url,
        database_url=database_url,
        tenant_id="",
        client_id="",
        client_secret="",
        log_lines=lines,
        reader=reader,
    )
    try:
        # Created while the server runs, as an operator would (it must not need a restart).
        client = create_client(
            ["--tenant", "acme", "--create-tenant", "--name", "svc",
             *[arg for scope in SCOPES for arg in ("--scope", scope)]],
            database_url,
        )
        server.tenant_id = client["tenant_id"]
        server.client_id = client["client_id"]
        server.client_secret = client["client_secret"]
    except BaseException:
        server.stop()
        raise
    try:
        yield server
    finally:
        server.stop()
        # The leak check normally runs as the last test; when that one was deselected, do it here.
        if not server.logs_checked and server.client_secret:
            server.check_logs()


@pytest.fixture(scope="module")
def discovery(keyport: Keyport) -> dict:
    """The test client's tenant's RFC 8414 metadata document (the path-inserted form of RFC 8414
    §3), checked enough for the other tests to rely on."""
    url = f"{keyport.public_url}/.well-known/oauth-authorization-server/t/{keyport.tenant_id}"
    resp = requests.get(url, timeout=HTTP_TIMEOUT_S)
    assert resp.status_code == 200, (
        f"GET {url} answered {resp.status_code} "
        f"({resp.headers.get('content-type')}): {resp.text[:300]}"
    )
    try:
        doc = resp.json()
    except ValueError:
        pytest.fail(f"GET {url} is not JSON: {resp.text[:300]}")
    missing = [k for k in ("issuer", "token_endpoint", "jwks_uri") if k not in doc]
    assert not missing, f"discovery document lacks {missing}: {doc}"
    return doc



def postgres_database(prefix: str) -> tuple[str, str] | None:
    """A fresh PostgreSQL database (its URL and name) on KEYPORT_TEST_POSTGRES_URL's server."""
    import uuid

    base = os.environ.get("KEYPORT_TEST_POSTGRES_URL")
    if not base:
        return None
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True, timeout=60)
    return base.rsplit("/", 1)[0] + f"/{name}", name


def server_on_engine(engine: str, tmp_path_factory: pytest.TempPathFactory, prefix: str):
    """A running server with no client yet, on a fresh SQLite file or PostgreSQL database
    (dropped afterwards): the body of a module's per-engine `server` fixture."""
    if not keyport_bin().is_file():
        pytest.fail(f"keyport binary not found at {keyport_bin()}: build it first")
    dropped = None
    if engine == "sqlite":
        database_url = f"sqlite://{tmp_path_factory.mktemp(prefix)}/keyport.db"
    else:
        made = postgres_database(prefix.replace("-", "_"))
        if made is None:
            pytest.skip("KEYPORT_TEST_POSTGRES_URL is not set: PostgreSQL not configured here")
        database_url, dropped = made
    process, public_url, lines, reader = start_server(database_url)
    running = Keyport(
        process=process, public_url=public_url, database_url=database_url, tenant_id="",
        client_id="", client_secret="", log_lines=lines, reader=reader,
    )
    try:
        yield running
    finally:
        running.stop()
        if dropped:
            base = os.environ["KEYPORT_TEST_POSTGRES_URL"]
            subprocess.run(
                ["psql", base, "-q", "-c", f"DROP DATABASE IF EXISTS {dropped} WITH (FORCE)"],
                check=False, timeout=60,
            )

-- Registered clients, their secrets, and the tenant's scope catalogue.
CREATE TABLE apps (
    client_id           TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    owner_id            TEXT REFERENCES users (id) ON DELETE SET NULL,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    visibility          TEXT NOT NULL CHECK (visibility IN ('private', 'public')),
    client_type         TEXT NOT NULL CHECK (client_type IN ('confidential', 'public')),
    tool                BOOLEAN NOT NULL DEFAULT FALSE,
    callback_url        TEXT,
    scopes              TEXT NOT NULL DEFAULT '',
    roles               TEXT NOT NULL DEFAULT '',
    token_lifetime_secs BIGINT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX apps_by_tenant ON apps (tenant_id, created_at);

-- Only a keyed hash of each secret is stored. A refresh marks the old row (revoked_at or
-- grace_until) and names its successor; "replaced_by IS NULL" in the refresh's UPDATE is
-- what lets exactly one of two concurrent refreshes win.
CREATE TABLE client_secrets (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    description  TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    created_by   TEXT,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT,
    grace_until  BIGINT,
    replaced_by  TEXT
);
CREATE INDEX client_secrets_by_client ON client_secrets (client_id, created_at);

CREATE TABLE tenant_scopes (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

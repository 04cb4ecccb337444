-- People, organisations and who belongs where. Timestamps are Unix seconds on both engines.
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    audience   TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    display_name     TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);

CREATE TABLE memberships (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'developer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

-- Append-only: the store offers no update or delete. No foreign keys, so the record of what
-- happened outlives the things it happened to.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT,
    action      TEXT NOT NULL,
    target_type TEXT,
    target_id   TEXT,
    detail      TEXT,
    ip          TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_events_by_tenant ON audit_events (tenant_id, created_at);
CREATE INDEX audit_events_by_target ON audit_events (action, target_id, created_at);
CREATE INDEX audit_events_by_ip ON audit_events (action, ip, created_at);

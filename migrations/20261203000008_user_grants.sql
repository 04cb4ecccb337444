-- People signing in to apps (SPEC §3a): what they consented to, the codes the authorization
-- endpoint hands out, and the refresh tokens the code exchange starts. Codes and refresh
-- tokens are stored as keyed hashes only, as client secrets are.

-- One row per person and app: the scopes they allowed (a union over every Allow).
CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_by_client ON consents (client_id);

-- A code is bound to everything the token request must repeat or prove. family_id and
-- access_jti are chosen when the code is made, so a replayed code can revoke what its first
-- use issued without waiting for that use to finish.
CREATE TABLE authorization_codes (
    hash           TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    redirect_sent  BOOLEAN NOT NULL,
    scope          TEXT NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    auth_time      BIGINT NOT NULL,
    family_id      TEXT NOT NULL,
    access_jti     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    -- Set when the used code is presented again: the first use, if it has not finished
    -- issuing yet, sees this and revokes what it just issued.
    replayed_at    BIGINT
);
CREATE INDEX authorization_codes_by_person ON authorization_codes (user_id, client_id);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);

-- Every refresh token of a family (one sign-in) carries the family's facts, so a refresh is
-- one UPDATE of the presented token and one INSERT of its successor. A spent token stays
-- until its family ends, so presenting it again is recognised as reuse.
CREATE TABLE refresh_tokens (
    hash              TEXT PRIMARY KEY,
    family_id         TEXT NOT NULL,
    client_id         TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The tenant the person acts in (the `tenant` claim); they must still belong to it.
    tenant_id         TEXT NOT NULL,
    scope             TEXT NOT NULL,
    auth_time         BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    idle_expires_at   BIGINT NOT NULL,
    family_expires_at BIGINT NOT NULL,
    spent_at          BIGINT,
    revoked_at        BIGINT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id, client_id);
CREATE INDEX refresh_tokens_by_client ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (family_expires_at);

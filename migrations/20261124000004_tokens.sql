-- The token service: signing keys shared by every instance, revoked access tokens, and the
-- change counter that tells every instance's client cache when to drop what it holds.

-- An app can be switched off without deleting it; extra audiences it may ask tokens for.
ALTER TABLE apps ADD COLUMN disabled_at BIGINT;
ALTER TABLE apps ADD COLUMN audiences TEXT NOT NULL DEFAULT '';

-- A key is published in the JWKS from created_at, signs from active_from until retired_at,
-- and stays published until publish_until, when every token it signed has expired.
CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    alg           TEXT NOT NULL,
    private_key   TEXT NOT NULL,
    public_jwk    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    active_from   BIGINT NOT NULL,
    retired_at    BIGINT,
    publish_until BIGINT
);

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

-- Bumped in the same transaction as every change to apps, secrets, tenants' audiences and
-- keys; each instance polls it and reloads its caches when it moves.
CREATE TABLE change_counter (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO change_counter (id, generation) VALUES (1, 0);

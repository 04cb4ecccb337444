-- Consent is remembered per person, app and the tenant the app acts in for them (SPEC §3a):
-- allowing an app while acting in one tenant says nothing about another. A consent given
-- before this was recorded is kept for every tenant its refresh tokens act in (so they keep
-- working), else for the app's own.
CREATE TABLE consents_by_tenant (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES apps (client_id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id, tenant_id)
);
INSERT INTO consents_by_tenant (user_id, client_id, tenant_id, scope, granted_at)
SELECT DISTINCT c.user_id, c.client_id, r.tenant_id, c.scope, c.granted_at
FROM consents c
JOIN refresh_tokens r ON r.user_id = c.user_id AND r.client_id = c.client_id
JOIN tenants t ON t.id = r.tenant_id
UNION
SELECT c.user_id, c.client_id, a.tenant_id, c.scope, c.granted_at
FROM consents c JOIN apps a ON a.client_id = c.client_id
WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens r
                  WHERE r.user_id = c.user_id AND r.client_id = c.client_id);
DROP TABLE consents;
ALTER TABLE consents_by_tenant RENAME TO consents;
CREATE INDEX consents_by_client ON consents (client_id);

-- The access token each refresh token came with, so that ending a family (a replayed code,
-- a spent refresh token presented again) ends the access tokens it issued too.
ALTER TABLE refresh_tokens ADD COLUMN access_jti TEXT;

-- Each tenant's role catalogue (#13): apps choose their roles from it, as they choose their
-- scopes from tenant_scopes, so no tenant can give its apps roles its admins never listed.
CREATE TABLE tenant_roles (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- `admin` is built in: on a tool client it opens the management API. New tenants get it when
-- they are made (services::roles::seed); existing ones here.
INSERT INTO tenant_roles (tenant_id, name, description, created_at)
SELECT id, 'admin', 'On a tool client: may call the management API.', created_at FROM tenants;

-- Existing data stays valid: every role an app already carries joins its tenant's catalogue,
-- and so does every scope an app still carries whose catalogue entry was deleted under it
-- (deleting a used scope is refused from now on). apps.roles and apps.scopes are
-- space-separated; the recursive query walks them one character at a time, because SQLite
-- and PostgreSQL share no string-search function (instr / strpos). `done` is the word that
-- a space just ended.
WITH RECURSIVE split (tenant_id, word, done, rest) AS (
    SELECT tenant_id, CAST('' AS TEXT), CAST('' AS TEXT), roles || ' ' FROM apps
    UNION ALL
    SELECT tenant_id,
           CASE WHEN substr(rest, 1, 1) = ' ' THEN '' ELSE word || substr(rest, 1, 1) END,
           CASE WHEN substr(rest, 1, 1) = ' ' THEN word ELSE '' END,
           substr(rest, 2)
    FROM split
    WHERE rest <> ''
)
INSERT INTO tenant_roles (tenant_id, name, description, created_at)
SELECT DISTINCT s.tenant_id, s.done, '', t.created_at
FROM split s JOIN tenants t ON t.id = s.tenant_id
WHERE s.done <> '' AND s.done <> 'admin';

WITH RECURSIVE split (tenant_id, word, done, rest) AS (
    SELECT tenant_id, CAST('' AS TEXT), CAST('' AS TEXT), scopes || ' ' FROM apps
    UNION ALL
    SELECT tenant_id,
           CASE WHEN substr(rest, 1, 1) = ' ' THEN '' ELSE word || substr(rest, 1, 1) END,
           CASE WHEN substr(rest, 1, 1) = ' ' THEN word ELSE '' END,
           substr(rest, 2)
    FROM split
    WHERE rest <> ''
)
INSERT INTO tenant_scopes (tenant_id, name, description, created_at)
SELECT DISTINCT s.tenant_id, s.done, '', t.created_at
FROM split s JOIN tenants t ON t.id = s.tenant_id
WHERE s.done <> ''
  AND NOT EXISTS (
      SELECT 1 FROM tenant_scopes c WHERE c.tenant_id = s.tenant_id AND c.name = s.done
  );

-- Who switched an app off. Only an admin may switch back on an app an admin switched off; a
-- developer may undo only their own switch-off. Apps switched off before this was recorded
-- count as switched off by an admin: the safe side, since nobody can tell any more.
ALTER TABLE apps ADD COLUMN disabled_by TEXT;
ALTER TABLE apps ADD COLUMN disabled_by_admin BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE apps SET disabled_by_admin = TRUE WHERE disabled_at IS NOT NULL;

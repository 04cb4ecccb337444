-- Members join by invitation (SPEC §5): an admin invites an email with a role, and nobody
-- becomes a member until the owner of that email accepts. The email need not have an account
-- yet, so invitations name an email, never a user; the owner is whoever signs in with it.
CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- As the admin typed it, for display; matched on the normalised (lower-case) form.
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'developer')),
    -- A user id (or a tool client's id): no foreign key, so the invitation outlives its author.
    invited_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    -- One invitation per email and tenant: inviting again renews it.
    UNIQUE (tenant_id, email_normalized)
);
-- What a person signing in is shown: the invitations for their email.
CREATE INDEX invitations_by_email ON invitations (email_normalized, expires_at);

-- Which grants each app may use (SPEC §3a), space-separated. Existing apps get the defaults
-- a new app of their kind gets: a confidential app its own credentials, plus the code flow
-- when it has a callback URL; a public app the user-facing grants.
ALTER TABLE apps ADD COLUMN grant_types TEXT NOT NULL DEFAULT '';
UPDATE apps SET grant_types = CASE
    WHEN client_type = 'public'
        THEN 'authorization_code refresh_token urn:ietf:params:oauth:grant-type:device_code'
    WHEN callback_url IS NOT NULL
        THEN 'client_credentials authorization_code refresh_token'
    ELSE 'client_credentials'
END;

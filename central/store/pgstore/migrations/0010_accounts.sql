-- 0010: web accounts and their sessions (store.Accounts). Accounts and
-- API tokens share one namespace of names (the Who of audit events): a
-- name may be an account and a token only with one role, checked by the
-- triggers below under one advisory lock, so that two concurrent
-- insertions cannot both pass.

CREATE TABLE accounts (
    name          text PRIMARY KEY,
    role          text NOT NULL,
    phone         text NOT NULL,
    password_hash text NOT NULL,
    created       timestamptz NOT NULL,
    created_by    text NOT NULL,
    disabled      timestamptz, -- NULL while the account may sign in
    failures      integer NOT NULL DEFAULT 0,
    locked_until  timestamptz
);

CREATE TABLE account_venues (
    account text NOT NULL REFERENCES accounts (name),
    venue   text NOT NULL,
    PRIMARY KEY (account, venue)
);

CREATE TABLE web_sessions (
    hash      bytea PRIMARY KEY,
    account   text NOT NULL REFERENCES accounts (name),
    csrf      text NOT NULL,
    created   timestamptz NOT NULL,
    last_seen timestamptz NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions (account);

CREATE FUNCTION anshim_account_name_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('anshim account names'));
    IF TG_TABLE_NAME = 'accounts' THEN
        IF EXISTS (SELECT 1 FROM api_tokens WHERE name = NEW.name AND role <> NEW.role) THEN
            RAISE EXCEPTION 'name % is an API token of another role', NEW.name
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'accounts_token_name';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM accounts WHERE name = NEW.name AND role <> NEW.role) THEN
        RAISE EXCEPTION 'name % is an account of another role', NEW.name
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'api_tokens_pkey';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER accounts_name_check BEFORE INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION anshim_account_name_check();
CREATE TRIGGER api_tokens_name_check BEFORE INSERT ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION anshim_account_name_check();

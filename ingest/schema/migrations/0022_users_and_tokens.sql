-- People who may use the API and the console (分级分权: roles scoped to the county or to
-- listed communities), their tokens and browser sessions, failed sign-ins (so that several
-- API processes slow down the same guesser), and the record of every change to a user.

CREATE TABLE users (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text NOT NULL UNIQUE
                         CHECK (name <> '' AND btrim(name) = name AND length(name) <= 64),
    role                 text NOT NULL CHECK (role IN ('admin', 'operator', 'auditor', 'viewer')),
    -- NULL: the whole county; otherwise the only communities the user may see and act in.
    communities          text[] CHECK (communities IS NULL OR cardinality(communities) > 0),
    -- argon2id, as a PHC string; NULL for an account that signs in with API tokens only.
    password_hash        text CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%'),
    created_at           timestamptz NOT NULL DEFAULT now(),
    password_changed_at  timestamptz,
    disabled_at          timestamptz,
    last_login_at        timestamptz
);

-- Bearer tokens (api: long-lived, made by `scg user token`; access: short-lived, from
-- POST /api/auth/token) and browser sessions. Only the SHA-256 of a token is kept: the
-- token itself is shown once, to whoever asked for it.
CREATE TABLE auth_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id),
    kind          text NOT NULL CHECK (kind IN ('api', 'access', 'session')),
    digest        text NOT NULL UNIQUE CHECK (digest ~ '^[0-9a-f]{64}$'),
    label         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL CHECK (expires_at > created_at),
    revoked_at    timestamptz,
    last_used_at  timestamptz
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id, kind);
CREATE INDEX auth_tokens_expires ON auth_tokens (expires_at);

-- Failed sign-ins per user name and per client address: after a few, each further attempt
-- waits until wait_until (doubling); a success clears the user's row.
CREATE TABLE login_failures (
    key          text PRIMARY KEY,           -- 'user:<name>' or 'address:<ip>'
    failures     integer NOT NULL CHECK (failures > 0),
    last_failed  timestamptz NOT NULL,
    wait_until   timestamptz
);

-- Who changed which user, when and how (added, password set, disabled, token made or
-- revoked): appended and never altered or deleted, like the operation log.
CREATE TABLE user_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor      text NOT NULL CHECK (actor <> ''),
    action     text NOT NULL,
    user_name  text NOT NULL,
    details    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX user_changes_user ON user_changes (user_name, id);

-- refuse_rewrite() comes from 0007_alarms.
CREATE TRIGGER user_changes_append_only BEFORE UPDATE OR DELETE ON user_changes
    FOR EACH ROW EXECUTE FUNCTION refuse_rewrite();
CREATE TRIGGER user_changes_no_truncate BEFORE TRUNCATE ON user_changes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_rewrite();

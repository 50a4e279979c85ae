-- Personal data, sealed (信息安全: 个人信息加密存储): the residents an elderly-care or SOS
-- registration holds, and the credentials of devices the centre keeps. Every *_enc column
-- holds a value SM4-GCM sealed by inventory.sealing (version byte | key id | nonce |
-- ciphertext | tag), never plain text; key_id names the key of every value in the row, so
-- `scg keys rotate` finds what is left to re-seal and `scg keys retire` what still needs a
-- key. The CHECKs refuse a value that is not sealed, or sealed under another key than the
-- row says.

CREATE FUNCTION sealed_under(value bytea, key_id text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT value IS NULL
        OR (length(value) >= 33 AND get_byte(value, 0) = 1
            AND encode(substring(value FROM 2 FOR 4), 'hex') = key_id)
$$;

CREATE TABLE residents (
    community          text NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    id                 text NOT NULL,
    key_id             text NOT NULL CHECK (key_id ~ '^[0-9a-f]{8}$'),
    name_enc           bytea NOT NULL,
    phone_enc          bytea,
    room_enc           bytea,
    contact_name_enc   bytea,
    contact_phone_enc  bytea,
    lone_elderly       boolean NOT NULL DEFAULT true,
    sealed_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community, id),
    CHECK (sealed_under(name_enc, key_id) AND sealed_under(phone_enc, key_id)
           AND sealed_under(room_enc, key_id) AND sealed_under(contact_name_enc, key_id)
           AND sealed_under(contact_phone_enc, key_id)),
    CHECK ((contact_name_enc IS NULL) = (contact_phone_enc IS NULL))
);
CREATE INDEX residents_key ON residents (key_id);

-- Not tied to the devices table by a foreign key: an import rewrites a community's devices
-- and then its credentials in one transaction, and a camera kept from a sheet keeps none.
CREATE TABLE device_credentials (
    community     text NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    device        text NOT NULL,
    key_id        text NOT NULL CHECK (key_id ~ '^[0-9a-f]{8}$'),
    username_enc  bytea NOT NULL,
    password_enc  bytea NOT NULL,
    sealed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community, device),
    CHECK (sealed_under(username_enc, key_id) AND sealed_under(password_enc, key_id))
);
CREATE INDEX device_credentials_key ON device_credentials (key_id);

-- The sample app's schema. Every id is a uuid from uuid_generate_v4(), which
-- the uuid-ossp extension provides: a superuser or the database owner must
-- have run CREATE EXTENSION "uuid-ossp" (Setup does).

CREATE TABLE tenants (
    id         uuid        PRIMARY KEY DEFAULT uuid_generate_v4(),
    name       text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    login         text        NOT NULL UNIQUE,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- The target of the composite foreign keys below, which make the
    -- database itself refuse a row whose user belongs to another tenant.
    UNIQUE (tenant_id, id)
);

CREATE TABLE sessions (
    id         uuid        PRIMARY KEY DEFAULT uuid_generate_v4(),
    token_hash bytea       NOT NULL UNIQUE,
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE messages (
    id         uuid        PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL,
    body       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_tenant_created_idx ON messages (tenant_id, created_at);
CREATE INDEX messages_user_id_idx ON messages (user_id);

CREATE TABLE files (
    id         uuid        PRIMARY KEY DEFAULT uuid_generate_v4(),
    tenant_id  uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL,
    name       text        NOT NULL,
    content    bytea       NOT NULL,
    size       bigint      NOT NULL CHECK (size = octet_length(content)),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX files_tenant_created_idx ON files (tenant_id, created_at);
CREATE INDEX files_user_id_idx ON files (user_id);

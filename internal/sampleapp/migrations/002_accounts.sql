-- Accounts made in several admin calls, as real apps make them: a user,
-- then a workspace (a row of tenants), then the user's membership of it.
-- A user belongs to no workspace until its membership is made, and cannot
-- sign in until then.
ALTER TABLE users ALTER COLUMN tenant_id DROP NOT NULL;

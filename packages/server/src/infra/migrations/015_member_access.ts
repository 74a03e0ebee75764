/**
 * Member access (SMART standalone launch): member apps' redirect URIs and whether they are public (PKCE, no
 * secret); member accounts, each linked to one Patient of a project and one email; authorization codes and refresh
 * tokens, stored by hash so any instance redeems them, a code or token being used once (a conditional UPDATE).
 */
export const statements: string[] = [
  `ALTER TABLE clients ADD COLUMN redirect_uris jsonb NULL`,
  `ALTER TABLE clients ADD COLUMN is_public boolean NOT NULL DEFAULT false`,
  `CREATE TABLE member_accounts (
    id text PRIMARY KEY,
    project_id text NOT NULL REFERENCES projects(id),
    patient_id text NOT NULL,
    email text NOT NULL,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, patient_id),
    UNIQUE (project_id, email)
  )`,
  // A code or a refresh token, of a family: the code and every refresh token rotated from it. `access_jti` is the
  // access token issued when it was used, revoked with its family.
  `CREATE TABLE member_grants (
    token_hash text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('code', 'refresh')),
    family_id text NOT NULL,
    client_id text NOT NULL,
    project_id text NOT NULL,
    account_id text NOT NULL,
    patient_id text NOT NULL,
    scope text NOT NULL,
    redirect_uri text NULL,
    code_challenge text NULL,
    nonce text NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz NULL,
    access_jti text NULL,
    access_exp bigint NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX member_grants_family_idx ON member_grants (family_id)`,
];

/**
 * Named users of the console (issue 24): each belongs to one project (an email is unique on the whole server, so
 * signing in needs no project), holds one role there and a scrypt password hash. Sessions and invitations are
 * stored by the SHA-256 of their secret, so the database never holds what a browser presents, and every instance
 * reads the same ones. Removing a user removes its sessions (`ON DELETE CASCADE`): the next request is refused.
 */
export const statements: string[] = [
  `CREATE TABLE users (
    id text PRIMARY KEY,
    project_id text NOT NULL REFERENCES projects(id),
    email text NOT NULL UNIQUE,
    name text NOT NULL DEFAULT '',
    role text NOT NULL CHECK (role IN ('administrator', 'bot-developer', 'analyst', 'viewer')),
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX users_project_idx ON users (project_id)`,
  `CREATE TABLE user_sessions (
    id_hash text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX user_sessions_user_idx ON user_sessions (user_id)`,
  `CREATE TABLE user_invitations (
    id text PRIMARY KEY,
    project_id text NOT NULL REFERENCES projects(id),
    email text NOT NULL,
    name text NOT NULL DEFAULT '',
    role text NOT NULL CHECK (role IN ('administrator', 'bot-developer', 'analyst', 'viewer')),
    token_hash text NOT NULL UNIQUE,
    invited_by text NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
];

/** Tenants, OAuth clients, signing keys, and the FHIR store (current versions, history, search index). */
export const statements: string[] = [
  `CREATE TABLE projects (
    id text PRIMARY KEY,
    name text NOT NULL,
    secrets jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE clients (
    id text PRIMARY KEY,
    project_id text NULL REFERENCES projects(id),
    name text NOT NULL,
    secret_hash text NULL,
    scope text NOT NULL DEFAULT '',
    is_admin boolean NOT NULL DEFAULT false,
    issuer text NULL,
    jwks jsonb NULL,
    jwks_uri text NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX clients_project_idx ON clients (project_id)`,
  `CREATE TABLE signing_keys (
    kid text PRIMARY KEY,
    alg text NOT NULL,
    private_jwk jsonb NOT NULL,
    public_jwk jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE fhir_resources (
    project_id text NOT NULL,
    resource_type text NOT NULL,
    id text NOT NULL,
    version_id integer NOT NULL,
    last_updated timestamptz NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    content jsonb NULL,
    PRIMARY KEY (project_id, resource_type, id)
  )`,
  `CREATE INDEX fhir_resources_updated_idx ON fhir_resources (project_id, resource_type, last_updated)`,
  `CREATE TABLE fhir_history (
    project_id text NOT NULL,
    resource_type text NOT NULL,
    id text NOT NULL,
    version_id integer NOT NULL,
    last_updated timestamptz NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    content jsonb NULL,
    PRIMARY KEY (project_id, resource_type, id, version_id)
  )`,
  // One row per extracted search value; which columns are set depends on the parameter type (see fhir/README.md).
  `CREATE TABLE fhir_index (
    project_id text NOT NULL,
    resource_type text NOT NULL,
    resource_id text NOT NULL,
    code text NOT NULL,
    system text NULL,
    value text NULL,
    norm text NULL,
    low timestamptz NULL,
    high timestamptz NULL,
    num numeric NULL,
    ref_type text NULL,
    ref_id text NULL
  )`,
  `CREATE INDEX fhir_index_resource_idx ON fhir_index (project_id, resource_type, resource_id, code)`,
  `CREATE INDEX fhir_index_value_idx ON fhir_index (project_id, resource_type, code, value)`,
  `CREATE INDEX fhir_index_norm_idx ON fhir_index (project_id, resource_type, code, norm text_pattern_ops)`,
  `CREATE INDEX fhir_index_date_idx ON fhir_index (project_id, resource_type, code, low, high)`,
  `CREATE INDEX fhir_index_num_idx ON fhir_index (project_id, resource_type, code, num)`,
  `CREATE INDEX fhir_index_ref_idx ON fhir_index (project_id, resource_type, code, ref_id)`,
];

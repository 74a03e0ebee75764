/**
 * Prior authorization (PAS): each authorization's current state per project (the submitted Bundle, every item's
 * decision, the last response Bundle) and the project's adjudication bot. The Claim and ClaimResponse themselves
 * are FHIR resources in `fhir_resources`; these rows index them for `$inquire`, updates and pended decisions.
 */
export const statements: string[] = [
  `CREATE TABLE pas_authorizations (
    project_id text NOT NULL,
    id text NOT NULL,
    claim_id text NOT NULL,
    pre_auth_ref text NOT NULL,
    status text NOT NULL,
    member_id text NOT NULL,
    patient_id text NOT NULL,
    claim_identifiers jsonb NOT NULL DEFAULT '[]',
    provider_identifiers jsonb NOT NULL DEFAULT '[]',
    org_identifier text NULL,
    client_id text NOT NULL,
    request_bundle jsonb NOT NULL,
    decision jsonb NULL,
    response_bundle jsonb NULL,
    attachments jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, id)
  )`,
  `CREATE INDEX pas_authorizations_member_idx ON pas_authorizations (project_id, member_id, created_at DESC)`,
  `CREATE INDEX pas_authorizations_ref_idx ON pas_authorizations (project_id, pre_auth_ref)`,
  `CREATE TABLE pas_bindings (
    project_id text PRIMARY KEY,
    bot_id text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
  // Members are found by member id (pas/member.ts); without this every request would read all Coverages.
  `CREATE INDEX fhir_resources_coverage_subscriber_idx ON fhir_resources (project_id, (content->>'subscriberId'))
     WHERE resource_type = 'Coverage'`,
];

/**
 * Every client gets a role, from what its registration implies: the super-admin and clients with a secret are
 * administrators (they were registered with `system/*.cruds` unless a narrower scope was given, which they keep);
 * clients registered with an `issuer` and keys are EHRs (CDS Hooks clients), whose scope becomes `cds-hooks`
 * (discovery, invocation, feedback). A client inserted later without a role is an EHR: the least privilege.
 */
export const statements: string[] = [
  `ALTER TABLE clients ADD COLUMN role text`,
  `UPDATE clients SET role = 'admin' WHERE is_admin`,
  `UPDATE clients SET role = 'ehr', scope = 'cds-hooks'
     WHERE role IS NULL AND (issuer IS NOT NULL OR jwks IS NOT NULL OR jwks_uri IS NOT NULL)`,
  `UPDATE clients SET role = 'admin' WHERE role IS NULL`,
  `ALTER TABLE clients ALTER COLUMN role SET DEFAULT 'ehr'`,
  `ALTER TABLE clients ALTER COLUMN role SET NOT NULL`,
  `ALTER TABLE clients ADD CONSTRAINT clients_role_check
     CHECK (role IN ('admin', 'bot-developer', 'ehr', 'partner', 'member-app'))`,
];

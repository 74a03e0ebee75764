/**
 * Type and system history (`GET [type]/_history`, `GET _history`) read each type's versions newest first: without
 * this index that is a sort of all of a project's versions of the type for every page. One more B-tree entry per
 * version written (AuditEvents, append-only, have no history rows and pay nothing).
 */
export const statements: string[] = [
  `CREATE INDEX fhir_history_updated_idx ON fhir_history (project_id, resource_type, last_updated)`,
];

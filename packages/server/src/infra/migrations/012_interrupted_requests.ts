/** Finds requests still `received` (adjudication interrupted) without scanning every authorization: see pas/recover.ts. */
export const statements: string[] = [
  `CREATE INDEX pas_authorizations_received_idx ON pas_authorizations (updated_at) WHERE status = 'received'`,
];

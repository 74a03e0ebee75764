/**
 * A client's credential generation: incremented whenever its secret is rotated or its keys replaced. Each access
 * token carries the generation it was issued under, and replacing credentials revokes the tokens of the previous
 * one (`auth/revocation.ts`).
 */
export const statements: string[] = [
  `ALTER TABLE clients ADD COLUMN IF NOT EXISTS credential_generation integer NOT NULL DEFAULT 0`,
];

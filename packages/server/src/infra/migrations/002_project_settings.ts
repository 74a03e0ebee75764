/** Per-project settings (allowed outbound base URLs) and the CDS feedback store. */
export const statements: string[] = [
  `ALTER TABLE projects ADD COLUMN IF NOT EXISTS settings jsonb NOT NULL DEFAULT '{}'::jsonb`,
];

/** Per-project settings: the base URLs its services may call although they are http or private. */
export const statements: string[] = [
  `ALTER TABLE projects ADD COLUMN IF NOT EXISTS settings jsonb NOT NULL DEFAULT '{}'::jsonb`,
];

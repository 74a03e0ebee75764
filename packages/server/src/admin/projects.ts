/** Tenants (projects), stored in the `projects` table; their OAuth clients are in auth/clients.ts. */
import { randomUUID } from 'node:crypto';
import { conflict, notFound } from '../infra/errors.js';
import type { Database } from '../infra/database.js';

export interface Project {
  id: string;
  name: string;
}

/** 409 when a project of that name exists, also when both are created at once (the name is a unique key). */
export async function createProject(db: Database, name: string, id: string = randomUUID()): Promise<Project> {
  const { rows } = await db.query(
    'INSERT INTO projects (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING id',
    [id, name],
  );
  if (rows.length === 0) throw conflict('admin.project-exists', `A project named "${name}" already exists`);
  return { id, name };
}

export async function requireProject(db: Database, id: string): Promise<Project> {
  const project = (await db.query<Project>('SELECT id, name FROM projects WHERE id = $1', [id])).rows[0];
  if (!project) throw notFound('admin.project-not-found', `Project ${id} not found`);
  return project;
}

export async function listProjects(db: Database): Promise<Project[]> {
  return (await db.query<Project>('SELECT id, name FROM projects ORDER BY created_at, id')).rows;
}

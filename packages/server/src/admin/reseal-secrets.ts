/**
 * The last step of rotating the secrets key: every value sealed with another key (project secrets, partners'
 * callback client secrets) is sealed again with the key that seals now, so that the old key can be dropped from
 * `HOOKBOT_SECRETS_KEYS_ACCEPTED`. Each value is replaced only if it is still the one read, so a concurrent change
 * (or a second reseal on another instance) is never overwritten; a value no key opens is counted and left alone.
 */
import type { Database } from '../infra/database.js';
import type { SecretsKey } from './secrets-key.js';

export interface ResealReport {
  resealed: number;
  unreadable: { projects: string[]; callbacks: number };
}

export async function resealSecrets(db: Database, key: SecretsKey): Promise<ResealReport> {
  const report: ResealReport = { resealed: 0, unreadable: { projects: [], callbacks: 0 } };
  const again = async (projectId: string, sealed: string): Promise<string | undefined> => {
    try {
      return await key.seal(projectId, await key.open(projectId, sealed));
    } catch {
      return undefined;
    }
  };

  const projects = await db.query<{ id: string; secrets: string }>(
    `SELECT id, secrets #>> '{}' AS secrets FROM projects WHERE jsonb_typeof(secrets) = 'string'`,
  );
  for (const row of projects.rows) {
    if (key.sealsNow(row.secrets)) continue;
    const sealed = await again(row.id, row.secrets);
    if (sealed === undefined) {
      report.unreadable.projects.push(row.id);
      continue;
    }
    const { rows } = await db.query(
      `UPDATE projects SET secrets = to_jsonb($2::text) WHERE id = $1 AND secrets #>> '{}' = $3 RETURNING id`,
      [row.id, sealed, row.secrets],
    );
    report.resealed += rows.length;
  }

  const callbacks = await db.query<{ project_id: string; client_id: string; oauth_client_secret: string }>(
    'SELECT project_id, client_id, oauth_client_secret FROM pas_callbacks',
  );
  for (const row of callbacks.rows) {
    if (key.sealsNow(row.oauth_client_secret)) continue;
    const sealed = await again(row.project_id, row.oauth_client_secret);
    if (sealed === undefined) {
      report.unreadable.callbacks++;
      continue;
    }
    const { rows } = await db.query(
      `UPDATE pas_callbacks SET oauth_client_secret = $3
        WHERE project_id = $1 AND client_id = $2 AND oauth_client_secret = $4 RETURNING client_id`,
      [row.project_id, row.client_id, sealed, row.oauth_client_secret],
    );
    report.resealed += rows.length;
  }
  return report;
}

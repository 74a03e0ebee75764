/**
 * First-start set-up: the super-admin client (from `HOOKBOT_ADMIN_CLIENT_ID`/`_SECRET`, or generated, printed
 * once and written to `<data dir>/admin-credentials.json`) and the `demo` project, seeded from `examples/`, with its
 * credentials in `<data dir>/demo-credentials.json` (its client's, and its console users' passwords, also printed
 * once), both files mode 0600.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../infra/config.js';
import type { Database } from '../infra/database.js';
import { HookbotError } from '../infra/errors.js';
import type { Logger } from '../infra/logger.js';
import { generateSecret } from '../auth/secrets.js';
import type { Services } from '../services.js';
import { createClient, findClient, setClientSecret } from '../auth/clients.js';
import { GENERATED_PASSWORD_COST } from '../auth/passwords.js';
import { createUser } from '../users/users.js';
import { createProject, type Project } from './projects.js';
import { seedDemoProject, type SeedReport } from './seed-demo.js';

export const DEMO_PROJECT_NAME = 'demo';
/** The redirect URI of the demo project's public member app. */
export const DEMO_MEMBER_APP_REDIRECT = 'http://localhost:3000/callback';

async function writeCredentials(dataDir: string, file: string, content: object): Promise<string> {
  await mkdir(dataDir, { recursive: true });
  const target = path.join(dataDir, file);
  await writeFile(target, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  return target;
}

export async function ensureAdminClient(db: Database, config: Config, log: Logger): Promise<void> {
  if (config.adminClientId && config.adminClientSecret) {
    const existing = await findClient(db, config.adminClientId);
    if (!existing) {
      await createClient(
        db,
        null,
        { name: 'super-admin', scope: '' },
        {
          id: config.adminClientId,
          secret: config.adminClientSecret,
          isAdmin: true,
        },
      );
    } else if (existing.isAdmin) {
      await setClientSecret(db, existing.id, config.adminClientSecret);
    } else {
      throw new Error(`HOOKBOT_ADMIN_CLIENT_ID names an existing non-admin client`);
    }
    return;
  }
  const { rows } = await db.query('SELECT 1 FROM clients WHERE is_admin LIMIT 1');
  if (rows.length) return;
  const clientSecret = generateSecret();
  const { clientId } = await createClient(
    db,
    null,
    { name: 'super-admin', scope: '' },
    { secret: clientSecret, isAdmin: true },
  );
  const file = await writeCredentials(config.dataDir, 'admin-credentials.json', { clientId, clientSecret });
  // Printed once, on purpose: this is the only time the secret exists in clear outside the file.
  process.stdout.write(
    `\nHookbot super-admin credentials (also in ${file}):\n  client id:     ${clientId}\n  client secret: ${clientSecret}\n\n`,
  );
  log.info({ clientId, file }, 'created super-admin client');
}

/** The demo project's console users: an analyst who edits the demo rule sets, and a viewer. */
export const DEMO_USERS = [
  { email: 'analyst@demo.hookbot.local', name: 'Demo analyst', role: 'analyst' },
  { email: 'viewer@demo.hookbot.local', name: 'Demo viewer', role: 'viewer' },
] as const;

async function createDemoUsers(db: Database, projectId: string) {
  const users = [];
  for (const user of DEMO_USERS) {
    const password = generateSecret();
    await createUser(db, { ...user, projectId, password, cost: GENERATED_PASSWORD_COST });
    users.push({ email: user.email, role: user.role, password });
  }
  return users;
}

export interface DemoProject {
  project: Project;
  /** What was seeded, when this start created the project. */
  seeded?: SeedReport;
}

const findDemoProject = async (db: Database): Promise<Project | undefined> =>
  (await db.query<Project>('SELECT id, name FROM projects WHERE name = $1', [DEMO_PROJECT_NAME])).rows[0];

/**
 * Creates the demo project on first start, seeded from `examples/`: all or nothing. The project, its client, every
 * example (bots with their code) and the credentials file are written in one transaction, the file before the
 * commit; a start interrupted anywhere (Ctrl-C, a crash, a lost database) leaves no demo project, so the next start
 * does it all again instead of finding a project it will never finish. When another instance sharing the database
 * seeds it at the same time, the unique project name lets one commit and the other use its project.
 */
export async function ensureDemoProject(services: Services): Promise<DemoProject> {
  const { db, config, log } = services;
  const existing = await findDemoProject(db);
  if (existing) return { project: existing };
  try {
    return await db.transaction(async (tx) => {
      const project = await createProject(tx, DEMO_PROJECT_NAME);
      const { clientId, clientSecret } = await createClient(tx, project.id, { name: 'demo client' });
      // The demo members' app, on a loopback redirect like the member app sandbox of seed 001: registered here, past
      // the check that keeps loopback redirects to development mode, because the demo project is itself a sandbox.
      const memberApp = await createClient(tx, project.id, {
        name: 'Demo member app',
        role: 'member-app',
        redirectUris: [DEMO_MEMBER_APP_REDIRECT],
        isPublic: true,
      });
      const seeded = await seedDemoProject({ ...services, db: tx }, project.id);
      const users = await createDemoUsers(tx, project.id);
      const file = await writeCredentials(config.dataDir, 'demo-credentials.json', {
        projectId: project.id,
        clientId,
        clientSecret,
        memberAppClientId: memberApp.clientId,
        memberAppRedirectUri: DEMO_MEMBER_APP_REDIRECT,
        users,
      });
      // Printed once, as the super-admin's: the console's demo users exist in clear only here and in the file.
      process.stdout.write(
        `\nHookbot console demo users (also in ${file}), sign in at ${config.baseUrl}/console:\n${users
          .map((u) => `  ${u.role.padEnd(8)} ${u.email}  password: ${u.password}\n`)
          .join('')}\n`,
      );
      log.info({ projectId: project.id, clientId, file }, 'created demo project');
      return { project, seeded };
    });
  } catch (err) {
    const winner = err instanceof HookbotError && err.status === 409 ? await findDemoProject(db) : undefined;
    if (winner) return { project: winner };
    throw err;
  }
}

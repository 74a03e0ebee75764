/** The parts of `Services` that store-level operations (deploys, seeding) use, over a test database. */
import type { Database } from '../infra/database.js';
import type { Services } from '../services.js';

export interface FakeServicesOptions {
  /** The bot runtime's compile check; compiles everything by default. */
  check?: (code: string) => Promise<{ ok: boolean; message?: string }>;
}

export function fakeServices(db: Database, options: FakeServicesOptions = {}): Services {
  return {
    db,
    runtime: { check: options.check ?? (() => Promise.resolve({ ok: true })) },
    bots: { changed: () => Promise.resolve() },
  } as unknown as Services;
}

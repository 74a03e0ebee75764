/**
 * A bot's logs and error message are recorded, not refused: a NUL, or a log tail or message cut inside a surrogate
 * pair, is replaced with U+FFFD, so one such run cannot fail the write of its project's whole batch of events.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { projectSystemAccess } from '../auth/access.js';
import { createRepository } from '../fhir/repository.js';
import type { Database } from '../infra/database.js';
import { openPglite } from '../infra/pglite-thread.js';
import { createLogger } from '../infra/logger.js';
import { runMigrations } from '../infra/migrations/index.js';
import { AuditWriter, MAX_LOG_TAIL } from './audit.js';

const PROJECT = '00000000-0000-4000-8000-0000000000b1';
let db: Database;

beforeAll(async () => {
  db = await openPglite();
  await runMigrations(db);
});
afterAll(() => db.close());

it('writes every event of a batch although a bot logged a NUL and its log tail splits a surrogate pair', async () => {
  const writer = new AuditWriter(db, createLogger('silent'), { intervalMs: 60_000, batchSize: 10_000 });
  const emoji = '\ud83d\ude00';
  const base = { projectId: PROJECT, subtype: 'execute', outcome: 'failure' as const, durationMs: 1 };
  void writer.add({ ...base, botId: 'clean', logs: 'fine' });
  void writer.add({ ...base, botId: 'nul', logs: 'a\u0000b', outcomeDesc: `Bot failed: \u0000` });
  // The tail keeps the last MAX_LOG_TAIL code units: it starts with the low half of the first emoji.
  void writer.add({
    ...base,
    botId: 'split',
    logs: `${emoji.repeat(MAX_LOG_TAIL)}x`,
    outcomeDesc: 'x' + emoji.repeat(1000),
  });
  await writer.close();
  const events = await createRepository(db, projectSystemAccess(PROJECT)).searchResources<AuditEvent>('AuditEvent', {
    _count: '100',
  });
  const log = (botId: string) => {
    const event = events.find((e) => e.entity?.[0]?.what?.reference === `Bot/${botId}`);
    return event?.entity?.[0]?.detail?.find((d) => d.type === 'log')?.valueString;
  };
  expect(events).toHaveLength(3);
  expect(log('nul')).toBe('a\ufffdb');
  expect(log('split')?.startsWith(`\ufffd${emoji}`)).toBe(true);
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '@medplum/fhirtypes';
import { projectSystemAccess } from '../auth/access.js';
import { createRepository } from '../fhir/repository.js';
import type { Database } from '../infra/database.js';
import { openPglite } from '../infra/pglite-thread.js';
import { createLogger } from '../infra/logger.js';
import { runMigrations } from '../infra/migrations/index.js';
import { validateForWrite } from '../fhir/validation.js';
import { AuditWriter, toAuditEvent, type AuditRecord } from './audit.js';

const P1 = '00000000-0000-4000-8000-0000000000a1';
const P2 = '00000000-0000-4000-8000-0000000000a2';
let db: Database;

beforeAll(async () => {
  db = await openPglite();
  await runMigrations(db);
});
afterAll(() => db.close());

const record = (projectId: string, n: number): AuditRecord => ({
  projectId,
  subtype: 'execute',
  botId: `bot-${n}`,
  outcome: 'success',
  durationMs: n,
});

const count = async (projectId: string) =>
  (
    await createRepository(db, projectSystemAccess(projectId)).searchResources<AuditEvent>('AuditEvent', {
      _count: '1000',
    })
  ).length;

describe('toAuditEvent', () => {
  it('builds AuditEvents that pass the full FHIR structure check (the writer skips it)', () => {
    for (const outcome of ['success', 'failure', 'error'] as const) {
      const event = toAuditEvent({
        projectId: 'p',
        subtype: 'cds-hooks',
        botId: 'b',
        botVersion: '2',
        clientId: 'c',
        outcome,
        outcomeDesc: 'thrown: x',
        durationMs: 1.5,
        details: { hook: 'order-sign', hookInstance: 'h', empty: undefined },
        logs: 'line 1\nline 2',
      });
      expect(() => validateForWrite(event)).not.toThrow();
    }
  });
});

describe('AuditWriter', () => {
  it('writes a large backlog from several projects in chunks, each event into its own project', async () => {
    const writer = new AuditWriter(db, createLogger('silent'), { intervalMs: 60_000, batchSize: 10_000 });
    for (let i = 0; i < 150; i++) void writer.add(record(i % 3 === 0 ? P2 : P1, i));
    expect(writer.pending).toBe(150);
    await writer.flush();
    expect(writer.pending).toBe(0);
    expect(await count(P1)).toBe(100);
    expect(await count(P2)).toBe(50);
  });

  it('close() waits for a flush already running and for events added meanwhile', async () => {
    const writer = new AuditWriter(db, createLogger('silent'), { intervalMs: 60_000, batchSize: 10_000 });
    const before = await count(P1);
    for (let i = 0; i < 40; i++) void writer.add(record(P1, i));
    const running = writer.flush();
    for (let i = 0; i < 5; i++) void writer.add(record(P1, i));
    await writer.close();
    expect(await count(P1)).toBe(before + 45);
    await running;
  });

  it('starts no flush for events added while one runs: the running flush writes them when it ends', async () => {
    const writer = new AuditWriter(db, createLogger('silent'), { intervalMs: 60_000, batchSize: 2 });
    const before = await count(P1);
    const flush = vi.spyOn(writer, 'flush');
    void writer.add(record(P1, 0));
    void writer.add(record(P1, 1));
    expect(flush).toHaveBeenCalledTimes(1);
    for (let i = 2; i < 200; i++) void writer.add(record(P1, i));
    // Not one suspended flush per event waiting behind the first (under a backlog, tens of thousands).
    expect(flush).toHaveBeenCalledTimes(1);
    await writer.close();
    expect(await count(P1)).toBe(before + 200);
  });

  it('makes callers wait once the events not yet written pass maxBacklogBytes, until they are written', async () => {
    // Each event is estimated at ~1 KB: the 4th and later pass the bound of 3 KB.
    const writer = new AuditWriter(db, createLogger('silent'), {
      intervalMs: 60_000,
      batchSize: 10_000,
      maxBacklogBytes: 3 * 1024,
    });
    const before = await count(P1);
    const admitted: boolean[] = [];
    const adds = [0, 1, 2, 3, 4].map((i) => writer.add(record(P1, i)).then(() => (admitted[i] = true)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(admitted).toEqual([true, true, true]);
    await writer.flush();
    await Promise.all(adds);
    expect(admitted).toEqual([true, true, true, true, true]);
    expect(await count(P1)).toBe(before + 5);
    // Written, the backlog is empty again: the next caller does not wait.
    let next = false;
    void writer.add(record(P1, 5)).then(() => (next = true));
    await Promise.resolve();
    expect(next).toBe(true);
    await writer.close();
  });

  it('writes as background work up to half the backlog bound, and as foreground work beyond it', async () => {
    const background: (boolean | undefined)[] = [];
    const watched: Database = {
      ...db,
      query: (sql, params, options) => {
        background.push(options?.background);
        return db.query(sql, params, options);
      },
    };
    // ~1 KB an event against a bound of 8 KB: up to 4 events are a backlog that can wait for idle CPU.
    const writer = new AuditWriter(watched, createLogger('silent'), {
      intervalMs: 60_000,
      batchSize: 10_000,
      maxBacklogBytes: 8 * 1024,
    });
    const before = await count(P1);
    for (const i of [0, 1]) void writer.add(record(P1, i));
    await writer.flush();
    expect(background).toEqual([true]);
    const adds = [2, 3, 4, 5, 6, 7].map((i) => writer.add(record(P1, i)));
    await writer.flush();
    await Promise.all(adds);
    expect(background).toEqual([true, false]);
    expect(await count(P1)).toBe(before + 8);
    await writer.close();
  });

  it('leaves the few events that arrive during a write to the next interval instead of a statement of their own', async () => {
    const started: (() => void)[] = [];
    const gated: Database = {
      ...db,
      query: async (sql, params, options) => {
        await new Promise<void>((release) => started.push(release));
        return db.query(sql, params, options);
      },
    };
    const writer = new AuditWriter(gated, createLogger('silent'), { intervalMs: 60_000, batchSize: 10_000 });
    const before = await count(P1);
    void writer.add(record(P1, 0));
    const flushing = writer.flush(false);
    await vi.waitFor(() => expect(started).toHaveLength(1));
    void writer.add(record(P1, 1));
    started[0]?.();
    // Under steady load, writing such stragglers at once made a stream of one- and two-event statements.
    await vi.waitFor(() => expect(writer.pending).toBe(1));
    await flushing;
    expect(started).toHaveLength(1);
    const closing = writer.close();
    await vi.waitFor(() => expect(started).toHaveLength(2));
    started[1]?.();
    await closing;
    expect(await count(P1)).toBe(before + 2);
  });
});

/**
 * AuditEvents for bot executions and CDS invocations, written off the response's critical path: events queue
 * in memory and a background flush (every 50 ms, or at 48 events) writes them in chunks (one statement per
 * project and chunk); `close()` drains the queue, so a graceful shutdown loses none. Each event is written into
 * its own project with the server's system access, tagged as server-recorded (fhir/record-origin.ts): a client can
 * neither write that tag nor alter an event.
 */
import type { AuditEvent, AuditEventEntityDetail, Practitioner, Reference } from '@medplum/fhirtypes';
import { projectSystemAccess } from '../auth/access.js';
import { createRepository } from '../fhir/repository.js';
import type { Database } from '../infra/database.js';
import type { Logger } from '../infra/logger.js';
import { storableText } from '../infra/storable.js';
import { untraced } from '../infra/tracing.js';

export const MAX_LOG_TAIL = 10 * 1024;
// Each statement wakes PGlite's thread, which on 2 cores takes a core from request handling: fewer, larger chunks
// cost CDS calls less (`npm run bench -- cds`, 4 connections: p99 ~10.8 ms with chunks of 16 to 48, ~9.8 with 48 to 96).
const MIN_CHUNK = 48;
const MAX_CHUNK = 96;
/** Events prepared per macrotask (~35 µs each), so that requests in flight wait for a slice, not a chunk. */
const PREPARE_SLICE = 8;

export interface AuditRecord {
  projectId: string;
  /** e.g. `execute`, `cds-hooks`. */
  subtype: string;
  botId: string;
  botVersion?: string;
  clientId?: string;
  /** The person on whose behalf (a console user): `agent.who`, instead of the client id. */
  agent?: Reference<Practitioner>;
  /** FHIR AuditEvent.action: `E` (execute, the default) or `U` (a deploy or rollback). */
  action?: 'E' | 'U';
  outcome: 'success' | 'failure' | 'error';
  outcomeDesc?: string;
  durationMs: number;
  details?: Record<string, string | undefined>;
  logs?: string;
}

/** The code system of Hookbot's AuditEvent `type` and `subtype` codes. */
export const AUDIT_TYPE_SYSTEM = 'https://hookbot.dev/fhir/CodeSystem/audit-event-type';

const OUTCOME_CODE = { success: '0', failure: '4', error: '8' } as const;

export function toAuditEvent(record: AuditRecord, recorded = new Date()): AuditEvent {
  const detail: AuditEventEntityDetail[] = [];
  const add = (type: string, value: string | undefined) => {
    // Bot text (and a tail cut inside a surrogate pair) may hold what the store refuses, failing the whole batch.
    if (value !== undefined && value !== '') detail.push({ type, valueString: storableText(value) });
  };
  add('version', record.botVersion);
  add('durationMs', record.durationMs.toFixed(1));
  for (const [k, v] of Object.entries(record.details ?? {})) add(k, v);
  if (record.logs) add('log', record.logs.length > MAX_LOG_TAIL ? record.logs.slice(-MAX_LOG_TAIL) : record.logs);
  return {
    resourceType: 'AuditEvent',
    type: {
      system: AUDIT_TYPE_SYSTEM,
      code: record.subtype,
      display: record.subtype,
    },
    subtype: [{ system: AUDIT_TYPE_SYSTEM, code: record.subtype }],
    action: record.action ?? 'E',
    recorded: recorded.toISOString(),
    outcome: OUTCOME_CODE[record.outcome],
    ...(record.outcomeDesc ? { outcomeDesc: storableText(record.outcomeDesc.slice(0, 2000)) } : {}),
    agent: [
      {
        requestor: true,
        who: record.agent ?? { display: record.clientId ?? 'system' },
      },
    ],
    source: { observer: { display: 'hookbot' } },
    entity: [{ what: { reference: `Bot/${record.botId}` }, ...(detail.length ? { detail } : {}) }],
  };
}

/** The default bound of what waits to be written, in estimated bytes (~30,000 events without logs). */
const MAX_BACKLOG_BYTES = 32 * 1024 * 1024;

const RESOLVED = Promise.resolve();

/** An event another domain built itself (a member's access to the Patient Access API), written into `projectId`. */
export interface BuiltAuditEvent {
  projectId: string;
  event: AuditEvent;
}

interface Queued {
  record: AuditRecord | BuiltAuditEvent;
  at: Date;
  bytes: number;
}

/** A rough size in memory: the record's fixed part, plus its logs and outcome text. */
function estimatedBytes(record: AuditRecord | BuiltAuditEvent): number {
  if ('event' in record) return 2048;
  return 1024 + (record.logs?.length ?? 0) + (record.outcomeDesc?.length ?? 0);
}

export class AuditWriter {
  private queue: Queued[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  /** Estimated bytes of the events added and not yet written (queued, or in the batch being written). */
  private unwritten = 0;
  private waiting: (() => void)[] = [];
  private readonly maxBacklogBytes: number;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    private readonly options: { intervalMs?: number; batchSize?: number; maxBacklogBytes?: number } = {},
  ) {
    this.maxBacklogBytes = options.maxBacklogBytes ?? MAX_BACKLOG_BYTES;
  }

  /**
   * Queues the event. The promise resolves at once while the events not yet written stay under `maxBacklogBytes`,
   * and otherwise once enough of them are written. Callers await it before answering, so a server saturated for
   * longer than the backlog lasts slows to the rate at which it writes its audit trail, instead of holding an ever
   * longer queue in memory.
   */
  add(record: AuditRecord | BuiltAuditEvent): Promise<void> {
    const bytes = estimatedBytes(record);
    this.queue.push({ record, at: new Date(), bytes });
    this.unwritten += bytes;
    // A flush under way takes what is queued when it ends: a flush per event would leave one suspended per request.
    if (!this.flushing) {
      if (this.queue.length >= (this.options.batchSize ?? 48)) void untraced(() => this.flush(false));
      else this.schedule();
    }
    if (this.unwritten <= this.maxBacklogBytes) return RESOLVED;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Events queued and not yet being written. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Writes everything queued so far, and what is added while it writes; with `all` false (the writer's own
   * flushes), what is added meanwhile is written at once only while it fills a chunk, and otherwise at the next
   * interval.
   */
  async flush(all = true): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    const flushing = this.drain(all);
    this.flushing = flushing;
    try {
      await flushing;
    } finally {
      if (this.flushing === flushing) this.flushing = undefined;
      if (!this.flushing && this.queue.length > 0) this.schedule();
    }
  }

  private schedule(): void {
    // Outside the trace of the request that happened to start the timer: the flush writes many requests' events.
    this.timer ??= untraced(() => setTimeout(() => void this.flush(false), this.options.intervalMs ?? 50));
  }

  async close(): Promise<void> {
    await this.flush();
  }

  /**
   * Takes the queue until it stays empty: a loop, since under steady load a flush calling itself for the events
   * added meanwhile would never unwind, keeping every written batch alive (docs/decisions/old-generation-promotion.md).
   * Under steady load a few events arrive while each chunk is written; writing those at once would make a stream of
   * small statements, each costing the database and the event loop far more per event, so unless `all` they wait for
   * the next interval when they are fewer than a chunk.
   */
  private async drain(all: boolean): Promise<void> {
    let first = true;
    while (this.queue.length > 0 && (all || first || this.queue.length >= MIN_CHUNK)) {
      first = false;
      const batch = this.queue;
      this.queue = [];
      // Building the events and their index rows runs on the event loop; the database works on them elsewhere
      // (PGlite's thread, PostgreSQL's server). So each chunk is built (in slices) and written in its own
      // macrotasks, keeping a flush from stalling requests in flight (the p99 of a CDS call); one chunk at a time,
      // so a backlog cannot crowd out the requests' own queries. A growing backlog gets larger chunks, which cost the
      // database less per event.
      let start = 0;
      while (start < batch.length) {
        if (start > 0) await new Promise((resolve) => setImmediate(resolve));
        const backlog = batch.length - start + this.queue.length;
        const size = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, Math.ceil(backlog / 4)));
        const chunk = batch.slice(start, start + size);
        start += size;
        await this.write(chunk);
        for (const item of chunk) this.unwritten -= item.bytes;
        this.admitWaiting();
      }
    }
  }

  private admitWaiting(): void {
    if (this.waiting.length === 0 || this.unwritten > this.maxBacklogBytes) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  /** Never rejects: a failed chunk is logged and the writer goes on. */
  private async write(batch: Queued[]): Promise<void> {
    const byProject = new Map<string, Queued[]>();
    for (const item of batch) {
      const list = byProject.get(item.record.projectId) ?? [];
      list.push(item);
      byProject.set(item.record.projectId, list);
    }
    // Up to half the bound, the trail is written with CPU no request wants (on PGlite; see QueryOptions): a burst of
    // calls is answered first and audited in the lull after it. Beyond half, the writes compete with requests for
    // the CPU, so that under sustained load the backlog stops growing before callers must wait for it.
    const background = this.unwritten <= this.maxBacklogBytes / 2;
    for (const [projectId, items] of byProject) {
      try {
        const events = items.map(({ record, at }) => ('event' in record ? record.event : toAuditEvent(record, at)));
        // Built from typed code (shapes checked once in audit.test.ts and patient-access.test.ts): no structure check.
        await createRepository(this.db, projectSystemAccess(projectId)).createMany(events, {
          serverBuilt: true,
          serverRecorded: true,
          slice: PREPARE_SLICE,
          background,
        });
      } catch (err) {
        this.log.error({ err, projectId, count: items.length }, 'audit write failed');
      }
    }
  }
}

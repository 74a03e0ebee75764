/**
 * Calls in flight by id: a `Map` against a null-prototype object, the two ways of holding them. A Map that keeps
 * taking new keys and deleting old ones rebuilds its table every few calls, and V8 links each replaced table to its
 * successor, so once one replaced table sits in the old generation each scavenge promotes the later ones with the
 * calls they held, until the next mark-compact. This measures what that costs: bytes promoted to the old generation,
 * and time per call, for a steady stream of calls (four in flight, ~1 KB each, with young-generation collections).
 * It reads V8 internals (heap spaces, forced collections), which change with Node versions: a measurement, not a
 * test.
 *
 * Run: `npm run bench -- call-table`.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

interface Table {
  set(id: number, value: object): void;
  take(id: number): void;
}

const CALLS = 20_000;

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}

function mapTable(): Table {
  const map = new Map<number, object>();
  return { set: (id, value) => void map.set(id, value), take: (id) => void map.delete(id) };
}

function objectTable(): Table {
  const entries = Object.create(null) as Record<number, object>;
  return {
    set: (id, value) => void (entries[id] = value),
    take: (id) => void delete entries[id],
  };
}

function measure(table: Table, gc: (options?: { type: 'minor' | 'major' }) => void): { promoted: number; us: number } {
  for (let id = -3; id <= 0; id++) table.set(id, {});
  // The table's own storage starts in the old generation, as a long-lived server's does.
  gc({ type: 'major' });
  gc({ type: 'major' });
  const before = oldSpaceUsed();
  const started = performance.now();
  for (let id = 1; id <= CALLS; id++) {
    table.set(id, { payload: new Array<number>(120).fill(id) });
    table.take(id - 4);
    if (id % 250 === 0) gc({ type: 'minor' });
  }
  const us = ((performance.now() - started) * 1000) / CALLS;
  return { promoted: oldSpaceUsed() - before, us };
}

export async function benchCallTable(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
  process.stdout.write(`${CALLS} calls, 4 in flight; old-generation bytes promoted, µs per call (incl. forced GCs)\n`);
  for (let round = 1; round <= 3; round++) {
    // The object first: the Map's promoted garbage, swept later, would blur the object's figure.
    for (const [name, make] of [
      ['null-prototype object', objectTable],
      ['Map', mapTable],
    ] as const) {
      const { promoted, us } = measure(make(), gc);
      process.stdout.write(
        `round ${round}  ${name.padEnd(22)} ${String(promoted).padStart(10)} B  ${us.toFixed(2)} µs\n`,
      );
    }
  }
}

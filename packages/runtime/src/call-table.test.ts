import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { CallTable } from './call-table.js';

describe('CallTable', () => {
  it('sets, gets, takes and counts entries; numeric ids come out oldest first', () => {
    const table = new CallTable<string>();
    for (const id of [3, 1, 2]) table.set(id, `call ${id}`);
    table.set(2, 'call 2 again');
    expect(table.size).toBe(3);
    expect(table.values()[0]).toBe('call 1');
    expect(table.take(1)).toBe('call 1');
    expect(table.take(1)).toBeUndefined();
    expect(table.get(2)).toBe('call 2 again');
    expect(table.values()).toEqual(['call 2 again', 'call 3']);
    expect(table.clear()).toEqual(['call 2 again', 'call 3']);
    expect([table.size, table.values()[0]]).toEqual([0, undefined]);
  });

  it('promotes no finished call to the old generation (a Map with the same traffic promotes them all)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
    const promotedBy = (table: { set(id: number, value: object): void; take(id: number): void }): number => {
      for (let id = -3; id <= 0; id++) table.set(id, {});
      // The table's own storage starts in the old generation, as a long-lived server's does.
      gc({ type: 'major' });
      gc({ type: 'major' });
      const before = oldSpaceUsed();
      // A steady stream of calls, four in flight, ~1 KB each, with young-generation collections in between.
      for (let id = 1; id <= 20_000; id++) {
        table.set(id, { payload: new Array<number>(120).fill(id) });
        table.take(id - 4);
        if (id % 250 === 0) gc({ type: 'minor' });
      }
      return oldSpaceUsed() - before;
    };
    // The table first: the Map's promoted garbage, swept later, would blur the table's figure.
    const promotedByTable = promotedBy(new CallTable<object>());
    const map = new Map<number, object>();
    const promotedByMap = promotedBy({
      set: (id, value) => void map.set(id, value),
      take: (id) => void map.delete(id),
    });
    expect(promotedByMap).toBeGreaterThan(5_000_000);
    expect(promotedByTable).toBeLessThan(1_000_000);
  });
});

function oldSpaceUsed(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}

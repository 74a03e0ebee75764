import { describe, expect, it } from 'vitest';
import { newResourceId } from './new-id.js';

describe('newResourceId', () => {
  it('is a version 7 UUID carrying the creation time in its first 48 bits', () => {
    const at = Date.UTC(2026, 10, 23, 3, 30, 0, 123);
    const id = newResourceId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('orders ids of different milliseconds by time, and differs within one millisecond', () => {
    const earlier = newResourceId(1_700_000_000_000);
    const later = newResourceId(1_700_000_000_001);
    expect(earlier < later).toBe(true);
    expect(newResourceId(1_700_000_000_000)).not.toBe(newResourceId(1_700_000_000_000));
  });
});

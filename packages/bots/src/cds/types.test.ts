import { describe, expect, it } from 'vitest';
import { KNOWN_HOOKS } from './types.js';

describe('KNOWN_HOOKS', () => {
  it('lists the seven CDS Hooks library hooks once each', () => {
    expect(new Set(KNOWN_HOOKS).size).toBe(7);
  });
});

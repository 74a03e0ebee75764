import { describe, expect, it } from 'vitest';
import { CRD_PRIMARY_HOOKS, findHook, HOOK_CATALOGUE, isCrdPrimaryHook, requiredContextFields } from './hooks.js';
import { KNOWN_HOOKS } from './types.js';

describe('hook catalogue', () => {
  it('describes every known hook', () => {
    for (const hook of KNOWN_HOOKS) expect(HOOK_CATALOGUE[hook].hook).toBe(hook);
  });

  it('marks appointment-book, order-sign and order-dispatch as CRD primary hooks', () => {
    expect([...CRD_PRIMARY_HOOKS].sort()).toEqual(['appointment-book', 'order-dispatch', 'order-sign']);
    expect(isCrdPrimaryHook('ORDER-SIGN')).toBe(true);
    expect(isCrdPrimaryHook('patient-view')).toBe(false);
  });

  it('lists required context fields from the hook specs', () => {
    expect(requiredContextFields('order-sign')).toEqual(['userId', 'patientId', 'draftOrders']);
    expect(requiredContextFields('order-select')).toEqual(['userId', 'patientId', 'selections', 'draftOrders']);
    expect(requiredContextFields('order-dispatch')).toEqual(['patientId', 'dispatchedOrders', 'performer']);
    expect(requiredContextFields('encounter-start')).toEqual(['userId', 'patientId', 'encounterId']);
    expect(requiredContextFields('patient-view')).toEqual(['userId', 'patientId']);
    expect(requiredContextFields('appointment-book')).toEqual(['userId', 'patientId', 'appointments']);
  });

  it('finds hooks case-insensitively and rejects unknown names', () => {
    expect(findHook('Patient-View')?.hook).toBe('patient-view');
    expect(findHook('medication-prescribe')).toBeUndefined();
  });
});

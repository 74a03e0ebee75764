import { describe, expect, it } from 'vitest';
import type { AccessPolicy } from '../../auth/access.js';
import { HookbotError } from '../../infra/errors.js';
import type { Repository } from '../repository.js';
import { bodyParams, exportSpec, preferences, queryParams } from './kickoff.js';

const repoWith = (allows: AccessPolicy['allows']): Repository =>
  ({ access: { projectId: 'p1', allows } }) as unknown as Repository;
const everything = repoWith(() => true);

const errorOf = async (promise: Promise<unknown>): Promise<HookbotError> => {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HookbotError) return err;
    throw err;
  }
  throw new Error('expected a HookbotError');
};

describe('the $export kick-off', () => {
  it('needs Prefer: respond-async, in any spelling, and reads handling=lenient beside it', () => {
    expect(preferences('respond-async')).toEqual({ lenient: false });
    expect(preferences('Respond-Async, handling=lenient')).toEqual({ lenient: true });
    expect(preferences('handling = lenient; respond-async')).toEqual({ lenient: true });
    expect(() => preferences('')).toThrow(/respond-async/);
    expect(() => preferences('return=minimal')).toThrow(/respond-async/);
  });

  it('reads a Parameters body and refuses anything else', () => {
    const params = bodyParams({
      resourceType: 'Parameters',
      parameter: [
        { name: '_type', valueString: 'Patient' },
        { name: '_type', valueString: 'Coverage' },
        { name: '_since', valueInstant: '2024-01-01T00:00:00Z' },
        { name: 'patient', valueReference: { reference: 'Patient/a' } },
      ],
    });
    expect(Object.fromEntries(params)).toEqual({
      _type: ['Patient', 'Coverage'],
      _since: ['2024-01-01T00:00:00Z'],
      patient: ['Patient/a'],
    });
    expect(() => bodyParams({ resourceType: 'Patient' })).toThrow(/Parameters/);
    expect(() => bodyParams([])).toThrow(/Parameters/);
    expect(() => bodyParams({ resourceType: 'Parameters', parameter: [{ name: '_type' }] })).toThrow(/value/);
  });

  it('exports the types the caller may read and search, and refuses a named one it may not', async () => {
    const patientsOnly = repoWith((type, interaction) => type === 'Patient' && 'rs'.includes(interaction));
    expect((await exportSpec(patientsOnly, 'system', queryParams(new URLSearchParams()), false)).types).toEqual([
      'Patient',
    ]);
    const refused = await errorOf(
      exportSpec(patientsOnly, 'system', queryParams(new URLSearchParams('_type=Coverage')), false),
    );
    expect(refused.status).toBe(403);
    const readOnly = repoWith((_, interaction) => interaction === 'r');
    expect((await errorOf(exportSpec(readOnly, 'system', new Map(), false))).status).toBe(403);
  });

  it('checks _type, _since and _outputFormat, and unknown parameters unless lenient', async () => {
    const spec = (query: string, lenient = false) =>
      exportSpec(everything, 'patient', queryParams(new URLSearchParams(query)), lenient);
    expect((await spec('_type=Coverage,Patient&_type=Coverage')).types).toEqual(['Coverage', 'Patient']);
    expect((await spec('_since=2024-02-01T10:00:00%2B02:00')).since).toBe('2024-02-01T08:00:00.000Z');
    expect((await spec('_outputFormat=ndjson')).level).toBe('patient');
    for (const bad of ['_type=Observation', '_type=Organization', '_since=2024-02-01', '_outputFormat=csv', '_x=1']) {
      expect((await errorOf(spec(bad))).status, bad).toBe(400);
    }
    expect((await spec('_elements=id', true)).types).toContain('Patient');
    expect((await spec('patient=Patient/abc')).patients).toEqual(['abc']);
    expect((await errorOf(spec('patient=Coverage/abc'))).status).toBe(400);
  });
});

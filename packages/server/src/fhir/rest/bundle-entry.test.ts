import { describe, expect, it } from 'vitest';
import { atEntry, parseEntry } from './bundle-entry.js';
import { HookbotError } from '../../infra/errors.js';

const BASE = 'http://localhost:8103/fhir/R4';
const entry = (method: string, url: string, resource?: object) => ({ request: { method, url }, resource });

describe('parseEntry', () => {
  it('reads the interactions a Bundle entry may ask for', () => {
    expect(parseEntry(entry('GET', 'Patient/1/_history/2'), 0, BASE)).toMatchObject({ id: '1', version: '2' });
    expect(parseEntry(entry('GET', 'Patient/1/_history'), 0, BASE)).toMatchObject({ id: '1', version: '' });
    expect(parseEntry(entry('GET', 'Patient?name=a&_count=5'), 0, BASE)).toMatchObject({ search: 'name=a&_count=5' });
    expect(parseEntry(entry('DELETE', `${BASE}/Patient/1`), 0, BASE)).toMatchObject({ type: 'Patient', id: '1' });
    expect(parseEntry(entry('PUT', 'Patient?identifier=x', { resourceType: 'Patient' }), 0, BASE)).toMatchObject({
      search: 'identifier=x',
    });
    const binary = { resourceType: 'Binary', contentType: 'application/json-patch+json', data: 'W10=' };
    expect(parseEntry(entry('PATCH', 'Patient/1', binary), 0, BASE)).toMatchObject({ method: 'PATCH', id: '1' });
    const parameters = { resourceType: 'Parameters', parameter: [] };
    expect(parseEntry(entry('PATCH', 'Patient?name=x', parameters), 0, BASE)).toMatchObject({ search: 'name=x' });
  });

  it("refuses conditions the entry's method does not take", () => {
    const conditional = (method: string, url: string, request: object, resource?: object) =>
      parseEntry({ request: { method, url, ...request }, resource }, 0, BASE);
    expect(() => conditional('POST', 'Patient', { ifMatch: 'W/"1"' }, { resourceType: 'Patient' })).toThrow(
      HookbotError,
    );
    expect(() => conditional('PUT', 'Patient/1', { ifNoneExist: 'x=y' }, { resourceType: 'Patient' })).toThrow(
      HookbotError,
    );
    expect(() => conditional('GET', 'Patient?name=x', { ifNoneMatch: '*' })).toThrow(HookbotError);
    expect(conditional('GET', 'Patient/1', { ifNoneMatch: '*' })).toMatchObject({ ifNoneMatch: '*' });
  });

  it('refuses what no single-resource route serves', () => {
    for (const [method, url, resource] of [
      ['PATCH', 'Patient/1'],
      ['PATCH', 'Patient/1', { resourceType: 'Patient' }],
      ['POST', 'Patient/1', { resourceType: 'Patient' }],
      ['PUT', 'Patient', { resourceType: 'Patient' }],
      ['DELETE', 'Patient/1/_history/1'],
      ['GET', 'http://elsewhere/fhir/R4/Patient/1'],
      ['GET', 'Patient/$everything/x'],
      ['POST', 'Patient', { resourceType: 'Coverage' }],
    ] as const) {
      expect(() => parseEntry(entry(method, url, resource), 3, BASE), `${method} ${url}`).toThrow(HookbotError);
    }
  });
});

describe('atEntry', () => {
  it('names the entry in each issue and keeps the status', () => {
    const err = atEntry(4, new HookbotError('fhir.not-found', 'Patient/x not found')) as HookbotError;
    expect(err.status).toBe(404);
    expect(err.issues[0]).toMatchObject({
      diagnostics: 'Bundle.entry[4]: Patient/x not found',
      expression: ['Bundle.entry[4]'],
    });
  });
});

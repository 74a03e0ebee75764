import { describe, expect, it } from 'vitest';
import { createStyle } from '../output.js';
import { globToRegExp, selectBots, type LoadedProject } from '../project.js';
import { versionOf } from './bot-deploy.js';
import { logsQuery, renderLogEntry, toLogEntry } from './bot-logs.js';
import { pickService } from './hooks-invoke.js';

describe('pickService', () => {
  const services = [
    { id: 'a1', hook: 'order-sign', title: 'Prior auth' },
    { id: 'a2', hook: 'order-sign', title: 'DME' },
    { id: 'b1', hook: 'appointment-book' },
  ];

  it.each([
    ['a2', 'a2'],
    ['appointment-book', 'b1'],
    ['Appointment-Book', 'b1'],
    ['DME', 'a2'],
  ])('%s → %s', (target, id) => {
    expect(pickService(services, target).id).toBe(id);
  });

  it('refuses a hook that several services answer, listing their ids (usage, exit 2)', () => {
    expect(() => pickService(services, 'order-sign')).toThrow(
      expect.objectContaining({
        code: 'usage',
        details: { lines: ['  a1  order-sign  Prior auth', '  a2  order-sign  DME'] },
      }),
    );
  });

  it('refuses a title that several services share', () => {
    expect(() => pickService([...services, { id: 'c1', hook: 'patient-view', title: 'DME' }], 'DME')).toThrow(
      expect.objectContaining({ code: 'usage', message: '2 services are titled DME; name one by id' }),
    );
  });

  it('refuses an unknown target, listing what exists (usage, exit 2, as --help says)', () => {
    expect(() => pickService(services, 'nope')).toThrow(expect.objectContaining({ code: 'usage' }));
    expect(() => pickService([], 'nope')).toThrow(
      expect.objectContaining({ details: { lines: ['The server lists no services (hookbot hooks discover).'] } }),
    );
  });
});

describe('bot logs', () => {
  it('reads outcome, description and log lines from an AuditEvent', () => {
    const entry = toLogEntry({
      id: 'e1',
      recorded: '2026-01-15T12:00:00Z',
      outcome: '8',
      outcomeDesc: 'Bot threw: boom',
      type: { code: 'execute' },
      entity: [
        { what: { reference: 'Bot/1' }, detail: [{ type: 'log', valueString: 'first\nsecond\n' }] },
        {
          detail: [
            { type: 'version', valueString: '3' },
            { type: 'durationMs', valueString: '8.5' },
          ],
        },
      ],
    });
    expect(entry).toEqual({
      id: 'e1',
      recorded: '2026-01-15T12:00:00Z',
      ok: false,
      outcome: '8',
      message: 'Bot threw: boom',
      kind: 'execute',
      details: { version: '3', durationMs: '8.5' },
      logs: ['first', 'second'],
    });
    expect(renderLogEntry(entry, createStyle(false))).toBe(
      '2026-01-15T12:00:00Z  failed  execute  v3  8.5 ms  Bot threw: boom\n    first\n    second',
    );
  });

  it('treats outcome 0 as success and falls back to meta.lastUpdated', () => {
    expect(toLogEntry({ outcome: '0', meta: { lastUpdated: 't' } })).toEqual({
      recorded: 't',
      ok: true,
      outcome: '0',
      details: {},
      logs: [],
    });
  });
});

describe('bot selection', () => {
  const project: LoadedProject = {
    root: '/p',
    file: '/p/hookbot.config.json',
    config: {
      bots: [
        { name: 'crd-a', source: 'a.ts' },
        { name: 'crd-b', source: 'b.ts' },
        { name: 'echo', source: 'e.ts' },
      ],
    },
  };

  it.each([
    [['crd-*'], ['crd-a', 'crd-b']],
    [
      ['echo', 'crd-?'],
      ['echo', 'crd-a', 'crd-b'],
    ],
    [[], ['crd-a', 'crd-b', 'echo']],
  ])('%j selects %j', (patterns, names) => {
    expect(selectBots(project, patterns).map((b) => b.name)).toEqual(names);
  });

  it('treats regular-expression characters literally', () => {
    expect(globToRegExp('a.b+').test('a.b+')).toBe(true);
    expect(globToRegExp('a.b+').test('aXbb')).toBe(false);
  });

  it('refuses a pattern that matches nothing', () => {
    expect(() => selectBots(project, ['nope*'])).toThrow(expect.objectContaining({ code: 'usage' }));
  });
});

describe('versionOf', () => {
  it.each([
    [{ version: 3 }, '3'],
    [{ version: { versionId: '4' } }, '4'],
    [{ bot: { meta: { versionId: '5' } } }, '5'],
    [{ resourceType: 'Bot', meta: { versionId: '6' } }, '6'],
    ['text', undefined],
  ])('%j → %s', (response, version) => {
    expect(versionOf(response)).toBe(version);
  });
});

describe('bot logs', () => {
  it('asks only for the events the server recorded, never AuditEvents a client wrote about the bot', () => {
    expect(logsQuery('b1', 20)).toEqual({
      entity: 'Bot/b1',
      _tag: 'https://hookbot.dev/fhir/CodeSystem/record-origin|server',
      _sort: '-_lastUpdated',
      _count: 20,
    });
  });
});

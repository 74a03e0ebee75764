import { describe, expect, it } from 'vitest';
import { toServiceDescription, validateCdsServiceConfig } from './service-config.js';

const valid = {
  hook: 'order-sign',
  title: 'Prior auth',
  description: 'Tells whether prior auth is needed',
  prefetch: [
    { key: 'patient', query: 'Patient/{{context.patientId}}' },
    { key: 'coverage', query: 'Coverage?patient={{context.patientId}}&status=active' },
  ],
  crd: true,
};

const paths = (value: unknown): string[] => validateCdsServiceConfig(value).map((i) => i.path);

describe('validateCdsServiceConfig', () => {
  it('accepts a complete service', () => {
    expect(validateCdsServiceConfig(valid)).toEqual([]);
    expect(validateCdsServiceConfig({ hook: 'x-custom', title: 't', description: 'd' })).toEqual([]);
  });

  it('requires an object', () => {
    expect(paths(null)).toEqual(['Bot.cdsService']);
    expect(paths([])).toEqual(['Bot.cdsService']);
  });

  it('requires hook, title and description as non-empty strings', () => {
    expect(paths({ hook: '', title: 3 })).toEqual([
      'Bot.cdsService.hook',
      'Bot.cdsService.title',
      'Bot.cdsService.description',
    ]);
  });

  it('refuses a hook that is a path', () => {
    expect(paths({ ...valid, hook: 'cds-services/order-sign' })).toEqual(['Bot.cdsService.hook']);
  });

  it('types usageRequirements and crd, and refuses unknown fields', () => {
    expect(paths({ ...valid, usageRequirements: '', crd: 'yes', extra: 1 })).toEqual([
      'Bot.cdsService.usageRequirements',
      'Bot.cdsService.crd',
      'Bot.cdsService.extra',
    ]);
  });

  it('requires prefetch to be a list', () => {
    expect(paths({ ...valid, prefetch: { patient: 'Patient/1' } })).toEqual(['Bot.cdsService.prefetch']);
  });

  it('names bad prefetch entries by index', () => {
    const prefetch = [
      { key: 'patient', query: 'Patient/{{context.patientId}}' },
      { key: 'patient', query: 'Patient/1' },
      { key: '', query: 'https://evil/Patient' },
      'Patient/1',
    ];
    expect(paths({ ...valid, prefetch })).toEqual([
      'Bot.cdsService.prefetch[1].key',
      'Bot.cdsService.prefetch[2].key',
      'Bot.cdsService.prefetch[2].query',
      'Bot.cdsService.prefetch[3]',
    ]);
  });
});

describe('toServiceDescription', () => {
  it('flattens prefetch to an object', () => {
    expect(toServiceDescription('bot-1', valid)).toEqual({
      hook: 'order-sign',
      title: 'Prior auth',
      description: 'Tells whether prior auth is needed',
      id: 'bot-1',
      prefetch: {
        patient: 'Patient/{{context.patientId}}',
        coverage: 'Coverage?patient={{context.patientId}}&status=active',
      },
    });
  });

  it('emits no empty strings, arrays or objects', () => {
    expect(
      toServiceDescription('b', {
        hook: 'patient-view',
        title: '',
        description: 'd',
        prefetch: [],
        usageRequirements: '',
      }),
    ).toEqual({ hook: 'patient-view', description: 'd', id: 'b' });
  });

  it('keeps usageRequirements when set', () => {
    expect(toServiceDescription('b', { ...valid, usageRequirements: 'Send Coverage' }).usageRequirements).toBe(
      'Send Coverage',
    );
  });
});

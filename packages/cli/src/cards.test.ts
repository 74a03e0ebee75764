import type { CdsResponse } from '@hookbot/bots';
import { describe, expect, it } from 'vitest';
import { renderCdsResponse } from './cards.js';
import { createStyle } from './output.js';

const response: CdsResponse = {
  cards: [
    {
      summary: 'Prior authorization required for CPT 93456',
      detail: 'Submit a PA request.\nSee the policy.',
      indicator: 'critical',
      source: { label: 'Acme Payer', topic: { system: 'http://x', code: 'coverage', display: 'Coverage' } },
      suggestions: [
        {
          label: 'Use the in-network lab',
          isRecommended: true,
          actions: [
            {
              type: 'create',
              description: 'Order at lab',
              resource: {
                resourceType: 'ServiceRequest',
                status: 'draft',
                intent: 'order',
                subject: { reference: 'Patient/p1' },
              },
            },
          ],
        },
      ],
      links: [{ label: 'Request PA', url: 'https://payer.example/pa', type: 'smart' }],
    },
    { summary: 'Heads up', indicator: 'warning', source: { label: 'Acme' } },
    { summary: 'FYI', indicator: 'info', source: { label: 'Acme' } },
  ],
  systemActions: [
    {
      type: 'update',
      description: 'Coverage information',
      resource: {
        resourceType: 'ServiceRequest',
        id: 'sr1',
        status: 'draft',
        intent: 'order',
        subject: { reference: 'Patient/p1' },
        extension: [
          {
            url: 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information',
            extension: [
              { url: 'covered', valueCode: 'covered' },
              { url: 'pa-needed', valueCode: 'auth-needed' },
              { url: 'coverage-assertion-id', valueString: 'abc' },
            ],
          },
        ],
      },
    },
  ],
};

describe('renderCdsResponse', () => {
  it('draws each card with its indicator, summary, detail, source, suggestions and links', () => {
    const text = renderCdsResponse(response, createStyle(false));
    expect(text).toContain('● CRITICAL  Prior authorization required for CPT 93456');
    expect(text).toContain('  Submit a PA request.\n  See the policy.');
    expect(text).toContain('source: Acme Payer · Coverage');
    expect(text).toContain('→ Use the in-network lab (recommended)');
    expect(text).toContain('create ServiceRequest — Order at lab');
    expect(text).toContain('↗ Request PA  https://payer.example/pa (SMART app)');
    expect(text).toContain('● WARNING  Heads up');
    expect(text).toContain('● INFO  FYI');
  });

  it('spells out CRD coverage information in system actions', () => {
    const text = renderCdsResponse(response, createStyle(false));
    expect(text).toContain('System actions');
    expect(text).toContain('update ServiceRequest/sr1 — Coverage information — covered=covered, pa-needed=auth-needed');
    expect(text).not.toContain('coverage-assertion-id');
  });

  it('colours the indicator: critical red, warning yellow, info blue', () => {
    const text = renderCdsResponse(response, createStyle(true));
    expect(text).toContain('\u001b[31m● CRITICAL\u001b[39m');
    expect(text).toContain('\u001b[33m● WARNING\u001b[39m');
    expect(text).toContain('\u001b[34m● INFO\u001b[39m');
  });

  it('says so when there are no cards', () => {
    expect(renderCdsResponse({ cards: [] }, createStyle(false))).toBe('No cards.');
  });
});

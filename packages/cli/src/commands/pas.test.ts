import { describe, expect, it } from 'vitest';
import { parseArgv } from '../cli.js';
import { decisionRows } from './pas-submit.js';

const parse = (line: string) => parseArgv(line.split(' '), { writeOut: () => undefined, writeErr: () => undefined });

describe('hookbot pas', () => {
  it('parses submit and bind', () => {
    expect(parse('pas submit req.json --json')).toEqual({
      invocation: { command: 'pas submit', options: { file: 'req.json' }, global: { json: true } },
    });
    expect(parse('pas bind pas-cardiac-cath')).toEqual({
      invocation: { command: 'pas bind', options: { name: 'pas-cardiac-cath' }, global: { json: false } },
    });
  });

  it('prints one row per item: sequence, code, decision, number, period and note', () => {
    const reviewAction = (code: string, display: string, number?: string) => ({
      url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction',
      extension: [
        {
          url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewActionCode',
          valueCodeableConcept: { coding: [{ code, display }] },
        },
        ...(number ? [{ url: 'number', valueString: number }] : []),
      ],
    });
    const rows = decisionRows(
      {
        entry: [
          {
            resource: {
              resourceType: 'ClaimResponse',
              processNote: [{ number: 1, text: 'send the progress note' }],
              item: [
                {
                  itemSequence: 1,
                  extension: [
                    {
                      url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-itemPreAuthPeriod',
                      valuePeriod: { start: '2021-08-23', end: '2021-09-23' },
                    },
                  ],
                  adjudication: [{ extension: [reviewAction('A1', 'Certified in total', 'AUTH1')] }],
                },
                {
                  itemSequence: 2,
                  noteNumber: [1],
                  extension: [
                    {
                      url: 'http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-administrationReferenceNumber',
                      valueString: 'PEND-1',
                    },
                  ],
                  adjudication: [{ extension: [reviewAction('A4', 'Pending')] }],
                },
              ],
            },
          },
        ],
      },
      [
        { sequence: 1, productOrService: { coding: [{ code: '93456' }] } },
        { sequence: 2, productOrService: { coding: [{ code: '93451' }] } },
      ],
    );
    expect(rows).toEqual([
      ['1', '93456', 'A1 Certified in total', 'AUTH1', '2021-08-23..2021-09-23', ''],
      ['2', '93451', 'A4 Pending', 'PEND-1', '', 'send the progress note'],
    ]);
  });
});

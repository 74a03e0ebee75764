/**
 * `hookbot pas submit FILE`: `POST /fhir/R4/Claim/$submit` with a PAS request Bundle, and the decision per item in
 * a table (sequence, code, review action, authorization number, period, pending reference).
 */
import path from 'node:path';
import { connect, type CommandContext } from '../context.js';
import { usageError } from '../errors.js';
import { table } from '../table.js';
import { readInput } from './bot-execute.js';

export interface PasSubmitOptions {
  file: string;
}

interface Extension {
  url: string;
  valueString?: string;
  valueDate?: string;
  valuePeriod?: { start?: string; end?: string };
  valueCodeableConcept?: { coding?: { code?: string; display?: string }[] };
  extension?: Extension[];
}

interface ResponseBundle {
  entry?: {
    resource?: {
      resourceType?: string;
      preAuthRef?: string;
      outcome?: string;
      disposition?: string;
      processNote?: { number?: number; text?: string }[];
      item?: {
        itemSequence?: number;
        noteNumber?: number[];
        extension?: Extension[];
        adjudication?: { extension?: Extension[] }[];
      }[];
    };
  }[];
}

interface ClaimItem {
  sequence?: number;
  productOrService?: { coding?: { code?: string }[] };
}

const ext = (list: Extension[] | undefined, suffix: string) => list?.find((e) => e.url.endsWith(suffix));

/** One row per item of the ClaimResponse, with the code the request's item asked for. */
export function decisionRows(response: ResponseBundle, requestItems: ClaimItem[]): string[][] {
  const cr = response.entry?.[0]?.resource;
  const notes = new Map((cr?.processNote ?? []).map((n) => [n.number, n.text ?? '']));
  return (cr?.item ?? []).map((item) => {
    const review = ext(item.adjudication?.[0]?.extension, '/extension-reviewAction');
    const coding = ext(review?.extension, '/extension-reviewActionCode')?.valueCodeableConcept?.coding?.[0];
    const number = review?.extension?.find((e) => e.url === 'number')?.valueString;
    const period = ext(item.extension, '/extension-itemPreAuthPeriod')?.valuePeriod;
    const pending = ext(item.extension, '/extension-administrationReferenceNumber')?.valueString;
    const code = requestItems.find((i) => i.sequence === item.itemSequence)?.productOrService?.coding?.[0]?.code;
    return [
      String(item.itemSequence ?? ''),
      code ?? '',
      coding ? `${coding.code ?? ''} ${coding.display ?? ''}`.trim() : '',
      number ?? pending ?? '',
      period ? `${period.start ?? ''}..${period.end ?? ''}` : '',
      (item.noteNumber ?? []).map((n) => notes.get(n) ?? '').join(' '),
    ];
  });
}

export async function pasSubmit(input: CommandContext & PasSubmitOptions): Promise<void> {
  const loaded = await readInput(path.resolve(input.cwd, input.file));
  if (!('json' in loaded) || typeof loaded.json !== 'object' || loaded.json === null) {
    throw usageError(`${input.file} must hold a PAS request Bundle (JSON)`);
  }
  const bundle = loaded.json as { entry?: { resource?: { item?: ClaimItem[] } }[] };
  const api = await connect(input);
  const { body } = await input.out.step('Submitting the prior authorization request', () =>
    api.request<ResponseBundle>('POST', '/fhir/R4/Claim/$submit', { json: bundle }),
  );
  const cr = body.entry?.[0]?.resource;
  input.out.result(body, () =>
    [
      `${input.out.style.bold(cr?.preAuthRef ?? '')} ${cr?.outcome ?? ''}${cr?.disposition ? ` (${cr.disposition})` : ''}`,
      table(
        ['Item', 'Code', 'Decision', 'Number', 'Period', 'Note'],
        decisionRows(body, bundle.entry?.[0]?.resource?.item ?? []),
        input.out.style,
      ),
    ].join('\n'),
  );
}

/** Traffic for fault tests: transaction Bundles whose entries can be counted afterwards, all or none. */
import { randomUUID } from 'node:crypto';
import { request, type JsonResponse } from './http.js';

export const BUNDLE_ENTRIES = 20;

/** A transaction Bundle creating `BUNDLE_ENTRIES` Patients that share an identifier of their own (`batch`). */
export function transactionBundle(): { batch: string; bundle: unknown } {
  const batch = randomUUID();
  const entry = Array.from({ length: BUNDLE_ENTRIES }, () => ({
    fullUrl: `urn:uuid:${randomUUID()}`,
    request: { method: 'POST', url: 'Patient' },
    resource: { resourceType: 'Patient', identifier: [{ system: 'urn:test:tx', value: batch }] },
  }));
  return { batch, bundle: { resourceType: 'Bundle', type: 'transaction', entry } };
}

/** How many of a Bundle's Patients are stored. */
export async function storedOf(fhir: string, token: string, batch: string): Promise<number> {
  const res = await request<{ total?: number }>(
    `${fhir}/Patient?identifier=urn:test:tx|${batch}&_total=accurate&_count=0`,
    { token },
  );
  if (res.status !== 200) throw new Error(`search answered ${res.status}`);
  return res.body.total ?? 0;
}

/** A Bundle sent and what it answered (undefined: no answer, the connection failed). */
export interface Sent {
  batch: string;
  status?: number;
}

/** Sends transaction Bundles one after another until `running()` is false; what each answered. */
export async function sendTransactions(
  fhir: string,
  token: string,
  running: () => boolean,
  sent: Sent[],
): Promise<void> {
  while (running()) {
    const { batch, bundle } = transactionBundle();
    const record: Sent = { batch };
    sent.push(record);
    const res: JsonResponse | undefined = await request(fhir, { method: 'POST', token, json: bundle }).catch(
      () => undefined,
    );
    record.status = res?.status;
  }
}

/**
 * Two real FHIR clients against Hookbot, on both stores: `fhir-kit-client` and `@medplum/core`'s `MedplumClient`
 * each create a resource if none exists (twice: one resource), upsert it (a conditional update), patch it, run a
 * batch and a transaction, and read type history back.
 */
import { MedplumClient } from '@medplum/core';
import type { Bundle, Coverage, Patient } from '@medplum/fhirtypes';
import { Client, type FhirResource } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getToken } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

const patient = (family: string, mrn: string): Patient => ({
  resourceType: 'Patient',
  name: [{ family }],
  identifier: [{ system: 'urn:clients', value: mrn }],
});

const transactionOf = (mrn: string): Bundle => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [
    {
      fullUrl: 'urn:uuid:9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d',
      resource: patient('Transacted', mrn),
      request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=urn:clients|${mrn}` },
    },
    {
      resource: {
        resourceType: 'Coverage',
        status: 'active',
        beneficiary: { reference: 'urn:uuid:9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d' },
        payor: [{ display: 'Acme' }],
      } satisfies Coverage,
      request: { method: 'POST', url: 'Coverage' },
    },
  ],
});

/** fhir-kit-client types resources loosely (an index signature); these are @medplum/fhirtypes' exact ones. */
const kit = (resource: Patient | Bundle): FhirResource => resource as unknown as FhirResource;
const as = <T>(resource: FhirResource): T => resource as unknown as T;

const batchOf = (id: string): Bundle => ({
  resourceType: 'Bundle',
  type: 'batch',
  entry: [
    { request: { method: 'GET', url: `Patient/${id}` } },
    { request: { method: 'GET', url: 'Patient/does-not-exist' } },
  ],
});

describe.each(['pglite', 'postgres'] as const)('real FHIR clients on %s', (store) => {
  let t: TestServer;
  let token: string;
  beforeAll(async () => {
    t = await startTestServer({ store, redis: store === 'postgres' });
    token = await getToken(t.url, t.demo.clientId, t.demo.clientSecret);
  });
  afterAll(async () => t?.stop());

  it('fhir-kit-client: conditional create, conditional update, patch, batch, transaction, history', async () => {
    const client = new Client({ baseUrl: `${t.url}/fhir/R4`, bearerToken: token });
    const mrn = `fkc-${store}`;
    const options = { headers: { 'If-None-Exist': `identifier=urn:clients|${mrn}` } };
    const first = as<Patient>(
      await client.create({ resourceType: 'Patient', body: kit(patient('Kit', mrn)), options }),
    );
    const again = as<Patient>(
      await client.create({ resourceType: 'Patient', body: kit(patient('Kit', mrn)), options }),
    );
    expect(again.id).toBe(first.id);

    const upserted = as<Patient>(
      await client.update({
        resourceType: 'Patient',
        searchParams: { identifier: `urn:clients|${mrn}` },
        body: kit({ ...patient('KitUpserted', mrn), id: first.id }),
      }),
    );
    expect(upserted).toMatchObject({ id: first.id, name: [{ family: 'KitUpserted' }], meta: { versionId: '2' } });

    const patched = as<Patient>(
      await client.patch({
        resourceType: 'Patient',
        id: first.id as string,
        jsonPatch: [{ op: 'add', path: '/gender', value: 'female' }],
        options: { headers: { 'If-Match': 'W/"2"' } },
      }),
    );
    expect(patched).toMatchObject({ gender: 'female', meta: { versionId: '3' } });
    await expect(
      client.patch({
        resourceType: 'Patient',
        id: first.id as string,
        jsonPatch: [{ op: 'add', path: '/gender', value: 'male' }],
        options: { headers: { 'If-Match': 'W/"2"' } },
      }),
    ).rejects.toMatchObject({ response: { status: 412 } });

    const batch = as<Bundle>(await client.batch({ body: kit(batchOf(first.id as string)) }));
    expect(batch.entry?.map((e) => e.response?.status)).toEqual(['200 OK', '404 Not Found']);

    const tx = as<Bundle>(await client.transaction({ body: kit(transactionOf(`${mrn}-tx`)) }));
    expect(tx.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created']);
    const tx2 = as<Bundle>(await client.transaction({ body: kit(transactionOf(`${mrn}-tx`)) }));
    expect(tx2.entry?.map((e) => e.response?.status)).toEqual(['200 OK', '201 Created']);

    const history = as<Bundle>(await client.history({ resourceType: 'Patient', options: {} }));
    expect(history.type).toBe('history');
    expect(history.entry?.length).toBeGreaterThan(0);
  });

  it('MedplumClient: createResourceIfNoneExist, upsertResource, patchResource, executeBatch, a transaction', async () => {
    const medplum = new MedplumClient({ baseUrl: `${t.url}/`, fetch: globalThis.fetch.bind(globalThis) });
    await medplum.startClientLogin(t.demo.clientId, t.demo.clientSecret);
    const mrn = `medplum-${store}`;
    const query = `identifier=urn:clients|${mrn}`;
    const first = await medplum.createResourceIfNoneExist(patient('Med', mrn), query);
    const again = await medplum.createResourceIfNoneExist(patient('Med', mrn), query);
    expect(again.id).toBe(first.id);

    const upserted = await medplum.upsertResource(patient('MedUpserted', mrn), query);
    expect(upserted).toMatchObject({ id: first.id, name: [{ family: 'MedUpserted' }], meta: { versionId: '2' } });
    const created = await medplum.upsertResource(patient('MedNew', `${mrn}-new`), `identifier=urn:clients|${mrn}-new`);
    expect(created.id).not.toBe(first.id);

    const patched = await medplum.patchResource('Patient', first.id, [
      { op: 'test', path: '/meta/versionId', value: '2' },
      { op: 'add', path: '/gender', value: 'other' },
    ]);
    expect(patched).toMatchObject({ gender: 'other', meta: { versionId: '3' } });

    const batch = await medplum.executeBatch(batchOf(first.id));
    expect(batch.entry?.map((e) => e.response?.status)).toEqual(['200 OK', '404 Not Found']);

    const tx = await medplum.executeBatch(transactionOf(`${mrn}-tx`));
    expect(tx.type).toBe('transaction-response');
    expect(tx.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created']);
  });
});

import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { withStores } from '../testing/stores.js';
import { findByMember, findByReference, insertAuthorization, type NewAuthorization } from './store.js';

const row = (projectId: string, clientId: string): NewAuthorization => ({
  projectId,
  id: randomUUID(),
  claimId: randomUUID(),
  preAuthRef: `PA${randomUUID().slice(0, 8)}`,
  status: 'received',
  memberId: 'M-1',
  patientId: 'p-1',
  claimIdentifiers: ['urn:claim|shared-1', 'shared-1'],
  providerIdentifiers: [],
  orgIdentifier: null,
  clientId,
  requestBundle: { resourceType: 'Bundle', type: 'collection' },
});

withStores('PAS authorizations', (getDb) => {
  it("finds a client's own authorization however many another client filed for the same member and key", async () => {
    const projectId = `project-${randomUUID()}`;
    const own = row(projectId, 'provider-a');
    await insertAuthorization(getDb(), own);
    // Another partner floods the member and the Claim identifier it guessed: newer rows, more than one page.
    for (let i = 0; i < 101; i++) await insertAuthorization(getDb(), row(projectId, 'provider-b'));
    const byMember = await findByMember(getDb(), projectId, 'M-1', 'provider-a');
    expect(byMember.map((r) => r.id)).toEqual([own.id]);
    const byReference = await findByReference(getDb(), projectId, 'provider-a', ['shared-1']);
    expect(byReference.map((r) => r.id)).toEqual([own.id]);
  });
});

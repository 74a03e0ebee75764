/** `GET /cds-services`: the caller's project's Bots found by `Bot?cds-hook:present=true`, as discovery entries. */
import { toServiceDescription, type CdsBot, type CdsServiceDescription } from '@hookbot/bots';
import type { Services } from '../services.js';

export async function discoverServices(services: Services, projectId: string): Promise<CdsServiceDescription[]> {
  const bots = await services.bots.systemRepo(projectId).searchResources<CdsBot>('Bot', {
    'cds-hook:present': 'true',
    _count: '1000',
    _sort: '_id',
  });
  return bots
    .filter((b) => b.id && b.cdsService)
    .map((b) => toServiceDescription(b.id as string, b.cdsService as NonNullable<CdsBot['cdsService']>));
}

/** `hookbot hooks discover`: `GET /cds-services` as a table (what an EHR configures itself from). */
import type { CommandContext } from '../context.js';
import { table } from '../table.js';
import { HooksClient, type HooksAuthOptions } from './hooks-client.js';

export async function hooksDiscover(input: CommandContext & HooksAuthOptions): Promise<void> {
  const client = await HooksClient.open(input);
  const services = await input.out.step('Discovering services', () => client.discover());
  input.out.result({ services }, () =>
    services.length === 0
      ? 'No CDS services. Deploy a bot with a hook (hookbot bot create NAME --hook order-sign) or a rule set.'
      : table(
          ['ID', 'HOOK', 'TITLE', 'PREFETCH'],
          services.map((s) => [s.id, s.hook, s.title ?? s.description ?? '', Object.keys(s.prefetch ?? {}).join(', ')]),
          input.out.style,
        ),
  );
}

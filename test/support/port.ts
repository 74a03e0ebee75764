import { once } from 'node:events';
import * as net from 'node:net';

/**
 * A port nobody listens on now: for a server whose base URL (token issuer, JWT audience) must name its real port,
 * or for a URL where nothing answers.
 */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Two instances of one deployment, with the demo client's token on each and the admin's on the first. */
import { getToken } from './http.js';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';

export interface ServerPair {
  a: TestServer;
  b: TestServer;
  tokenA: string;
  tokenB: string;
  adminA: string;
}

/** Starts `a` with `first`, then `b` as its peer with `second`; `a` is stopped again if `b` does not start. */
export async function startServerPair(
  first: TestServerOptions,
  second: Omit<TestServerOptions, 'peer'>,
): Promise<ServerPair> {
  const a = await startTestServer(first);
  let b: TestServer;
  try {
    b = await startTestServer({ ...second, peer: a });
  } catch (err) {
    await a.stop();
    throw err;
  }
  return {
    a,
    b,
    tokenA: await getToken(a.url, a.demo.clientId, a.demo.clientSecret),
    tokenB: await getToken(b.url, b.demo.clientId, b.demo.clientSecret),
    adminA: await getToken(a.url, a.admin.clientId, a.admin.clientSecret),
  };
}

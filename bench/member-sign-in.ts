/**
 * What a member's sign-in costs: the password hash alone (scrypt N=2^15, r=8, p=3), a check against a known and
 * an unknown email (the same work, by design), and a whole sign-in over HTTP (form, CSRF, hash, session cookie).
 * Part of `npm run bench -- member` (member.ts).
 */
import { hashSecret, verifySecret } from '../packages/server/src/auth/secrets.js';
import { passwordKdf } from '../packages/server/src/auth/passwords.js';
import {
  authorizeUrl,
  Browser,
  createMember,
  hiddenFields,
  newFacts,
  pkce,
  registerMemberApp,
  signUpAndApprove,
} from '../test/support/member-launch.js';
import { startTestServer } from '../test/support/server.js';
import { time } from './timing.js';

const row = (name: string, r: { median: number; p99: number } | string) =>
  process.stdout.write(
    `${name.padEnd(44)} ${typeof r === 'string' ? r : `${r.median.toFixed(1).padStart(8)} ms  p99 ${r.p99.toFixed(1)} ms`}\n`,
  );

export async function benchMemberSignIn(): Promise<void> {
  const password = 'correct horse battery staple';
  const stored = await hashSecret(password, passwordKdf);
  row('password hash (scrypt N=2^15 r=8 p=3)', await time(10, () => hashSecret(password, passwordKdf)));
  row('password check, known email', await time(10, () => verifySecret(password, stored, passwordKdf)));
  row('password check, unknown email', await time(10, () => verifySecret(password, undefined, passwordKdf)));

  const t = await startTestServer();
  try {
    const app = await registerMemberApp(t, { public: true });
    const facts = newFacts();
    await createMember(t, facts);
    const email = `${facts.lastName.toLowerCase()}@example.com`;
    const { challenge } = pkce();
    await signUpAndApprove(t, new Browser(), { clientId: app.clientId, challenge }, facts, email);
    const browser = new Browser();
    const hidden = hiddenFields((await browser.get(authorizeUrl(t, { clientId: app.clientId }))).html);
    row(
      'sign-in over HTTP (form to session cookie)',
      await time(10, async () => {
        const res = await browser.post(`${t.url}/oauth2/authorize/sign-in`, {
          ...hidden,
          email,
          password: 'correct horse battery',
        });
        if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
      }),
    );
  } finally {
    await t.stop();
  }
}

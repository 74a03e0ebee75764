/**
 * `hookbot admin signing-key rotate` and `hookbot admin secrets reseal` (super-admin): the server's two key
 * rotations, as the README's operator section walks through them.
 */
import { connect, type CommandContext } from '../context.js';
import { CliError } from '../errors.js';

interface Rotated {
  kid: string;
  previous: string[];
}

interface Resealed {
  resealed: number;
  unreadable: { projects: string[]; callbacks: number };
}

export async function adminSigningKeyRotate(input: CommandContext): Promise<void> {
  const api = await connect(input);
  const { body } = await input.out.step('Creating a new token-signing key', () =>
    api.request<Rotated>('POST', '/admin/signing-keys'),
  );
  const { style } = input.out;
  input.out.result(body, () =>
    [
      `${style.green('✓')} Tokens are signed with key ${style.bold(body.kid)} on every instance`,
      style.dim(
        `  The replaced key${body.previous.length === 1 ? '' : 's'} (${body.previous.join(', ')}) verify, and stay in /.well-known/jwks.json, until what they signed has expired.`,
      ),
    ].join('\n'),
  );
}

export async function adminSecretsReseal(input: CommandContext): Promise<void> {
  const api = await connect(input);
  const { body } = await input.out.step('Sealing stored secrets again with the current secrets key', () =>
    api.request<Resealed>('POST', '/admin/secrets/reseal'),
  );
  const { style } = input.out;
  const unreadable = body.unreadable.projects.length + body.unreadable.callbacks;
  if (unreadable > 0) {
    throw new CliError('failed', `${unreadable} stored secret(s) open with no key this server holds`, {
      lines: [
        `projects: ${body.unreadable.projects.join(', ') || 'none'}; partner callbacks: ${body.unreadable.callbacks}`,
        `${body.resealed} other value(s) were sealed again. Keep the old key in HOOKBOT_SECRETS_KEYS_ACCEPTED until these are set anew.`,
      ],
    });
  }
  input.out.result(body, () =>
    [
      `${style.green('✓')} ${body.resealed} sealed value${body.resealed === 1 ? '' : 's'} now use the current key`,
      style.dim('  Nothing is left under another key: HOOKBOT_SECRETS_KEYS_ACCEPTED can be emptied.'),
    ].join('\n'),
  );
}

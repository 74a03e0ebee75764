/**
 * `hookbot admin client create NAME --project ID` (super-admin): registers a client, with a certificate or a subject
 * DN for mutual TLS (RFC 8705), and prints its credentials.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, type CommandContext } from '../context.js';
import { usageError } from '../errors.js';

export interface ClientCreateOptions {
  name: string;
  project: string;
  role?: string;
  scope?: string;
  /** PEM file of the client's certificate. */
  cert?: string;
  subjectDn?: string;
  requireMtls?: boolean;
}

interface Created {
  clientId: string;
  clientSecret?: string;
  role: string;
  scope: string;
  certThumbprint?: string;
  tlsClientAuthSubjectDn?: string;
  requireMtls?: boolean;
}

export async function adminClientCreate(input: CommandContext & ClientCreateOptions): Promise<void> {
  let certificate: string | undefined;
  if (input.cert) {
    try {
      certificate = await readFile(path.resolve(input.cwd, input.cert), 'utf8');
    } catch (error) {
      throw usageError(`Cannot read --cert ${input.cert}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  const api = await connect(input);
  const json = {
    name: input.name,
    ...(input.role ? { role: input.role } : {}),
    ...(input.scope ? { scope: input.scope } : {}),
    ...(certificate ? { certificate } : {}),
    ...(input.subjectDn ? { tlsClientAuthSubjectDn: input.subjectDn } : {}),
    ...(input.requireMtls ? { requireMtls: true } : {}),
  };
  const { body } = await input.out.step(`Registering client ${input.name}`, () =>
    api.request<Created>('POST', `/admin/projects/${encodeURIComponent(input.project)}/clients`, { json }),
  );
  const { style } = input.out;
  const row = (label: string, value: string | undefined) => (value ? `  ${label.padEnd(15)}${value}` : undefined);
  input.out.result(body, () =>
    [
      `${style.green('✓')} Client ${style.bold(input.name)} (${body.role}: ${body.scope})`,
      row('client id', body.clientId),
      row('client secret', body.clientSecret),
      row('certificate', body.certThumbprint && `x5t#S256 ${body.certThumbprint}`),
      row('subject DN', body.tlsClientAuthSubjectDn),
      body.requireMtls ? '  mutual TLS only' : undefined,
      body.clientSecret ? style.dim('  The secret is shown once.') : undefined,
      body.certThumbprint || body.tlsClientAuthSubjectDn
        ? style.dim(
            `  Sign in over mutual TLS: hookbot login --base-url <TLS URL> --client-id ${body.clientId} --cert <file> --key <file>`,
          )
        : undefined,
    ]
      .filter(Boolean)
      .join('\n'),
  );
}

/**
 * `hookbot admin client create NAME --project PROJECT` (super-admin): registers a client in a project, named by id or
 * name, and prints its credentials: a partner or EHR with a certificate or a subject DN for mutual TLS (RFC 8705), or
 * a member app (SMART standalone launch) with its redirect URIs.
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
  redirectUri?: string[];
  public?: boolean;
}

interface Created {
  clientId: string;
  clientSecret?: string;
  role: string;
  scope: string;
  certThumbprint?: string;
  tlsClientAuthSubjectDn?: string;
  requireMtls?: boolean;
  redirectUris?: string[];
  public?: boolean;
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
  if (input.public && !input.redirectUri?.length) throw usageError('A --public app needs at least one --redirect-uri');
  const api = await connect(input);
  const { body: list } = await api.request<{ projects: { id: string; name: string }[] }>('GET', '/admin/projects');
  const project = list.projects.find((p) => p.id === input.project || p.name === input.project);
  if (!project) throw usageError(`No project "${input.project}": see the projects of GET /admin/projects`);
  const json = {
    name: input.name,
    ...(input.role ? { role: input.role } : {}),
    ...(input.scope ? { scope: input.scope } : {}),
    ...(certificate ? { certificate } : {}),
    ...(input.subjectDn ? { tlsClientAuthSubjectDn: input.subjectDn } : {}),
    ...(input.requireMtls ? { requireMtls: true } : {}),
    ...(input.redirectUri?.length ? { redirectUris: input.redirectUri } : {}),
    ...(input.public ? { public: true } : {}),
  };
  const { body } = await input.out.step(`Registering client ${input.name} in ${project.name}`, () =>
    api.request<Created>('POST', `/admin/projects/${project.id}/clients`, { json }),
  );
  const { style } = input.out;
  const row = (label: string, value: string | undefined) => (value ? `  ${label.padEnd(15)}${value}` : undefined);
  input.out.result(body, () =>
    [
      `${style.green('✓')} Client ${style.bold(input.name)} in ${style.bold(project.name)} (${body.role}: ${body.scope})`,
      row('client id', body.clientId),
      row('client secret', body.clientSecret),
      row('certificate', body.certThumbprint && `x5t#S256 ${body.certThumbprint}`),
      row('subject DN', body.tlsClientAuthSubjectDn),
      row('redirect URIs', body.redirectUris?.join(' ')),
      body.requireMtls ? '  mutual TLS only' : undefined,
      body.public ? '  public app: no secret, PKCE (S256) only' : undefined,
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

/**
 * `hookbot admin client create PROJECT --redirect-uri URI [--public]` (super-admin): registers a member app (SMART
 * standalone launch) in a project, named by id or name, and prints its credentials.
 */
import { usageError } from '../errors.js';
import { connect, type CommandContext } from '../context.js';

export interface ClientCreateOptions {
  project: string;
  redirectUri: string[];
  public?: boolean;
  name?: string;
}

interface Created {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
}

export async function adminClientCreate(input: CommandContext & ClientCreateOptions): Promise<void> {
  if (!input.redirectUri.length) throw usageError('At least one --redirect-uri is required');
  const api = await connect(input);
  const { body: list } = await api.request<{ projects: { id: string; name: string }[] }>('GET', '/admin/projects');
  const project = list.projects.find((p) => p.id === input.project || p.name === input.project);
  if (!project) throw usageError(`No project "${input.project}": see the projects of GET /admin/projects`);
  const { body } = await input.out.step(`Registering a member app in ${project.name}`, () =>
    api.request<Created>('POST', `/admin/projects/${project.id}/clients`, {
      json: {
        name: input.name ?? 'Member app',
        redirectUris: input.redirectUri,
        ...(input.public ? { public: true } : {}),
      },
    }),
  );
  const { style } = input.out;
  input.out.result(body, () =>
    [
      `${style.green('✓')} Member app in ${style.bold(project.name)}`,
      `  client id      ${body.clientId}`,
      body.clientSecret ? `  client secret  ${body.clientSecret}` : '  public app: no secret, PKCE (S256) only',
      `  redirect URIs  ${body.redirectUris.join(' ')}`,
      ...(body.clientSecret ? [style.dim('  The secret is shown once.')] : []),
    ].join('\n'),
  );
}

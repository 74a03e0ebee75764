/** `hookbot admin project create NAME` (super-admin): a new tenant and its first client's credentials. */
import { connect, type CommandContext } from '../context.js';

export interface ProjectCreateOptions {
  name: string;
}

interface Created {
  project: { id: string; name: string };
  client: { clientId: string; clientSecret: string };
}

export async function adminProjectCreate(input: CommandContext & ProjectCreateOptions): Promise<void> {
  const api = await connect(input);
  const { body } = await input.out.step(`Creating project ${input.name}`, () =>
    api.request<Created>('POST', '/admin/projects', { json: { name: input.name } }),
  );
  const { style } = input.out;
  input.out.result(body, () =>
    [
      `${style.green('✓')} Project ${style.bold(body.project.name)} (${body.project.id})`,
      `  client id      ${body.client.clientId}`,
      `  client secret  ${body.client.clientSecret}`,
      style.dim('  The secret is shown once. Sign in with:'),
      style.dim(
        `  hookbot login --base-url ${api.profile.baseUrl} --client-id ${body.client.clientId} --client-secret <secret>`,
      ),
    ].join('\n'),
  );
}

/** `hookbot whoami`: the client, project and scope of the current profile, as the server sees them. */
import { connect, type CommandContext } from '../context.js';
import type { Me } from './login.js';

export async function whoami(input: CommandContext): Promise<void> {
  const api = await connect(input);
  const me = (await input.out.step('Asking the server', () => api.request<Me>('GET', '/auth/me'))).body;
  input.out.result({ baseUrl: api.profile.baseUrl, ...me }, () =>
    [
      `client   ${me.clientId}${me.admin ? ' (super-admin)' : ''}`,
      `project  ${me.projectId ?? '-'}`,
      `scope    ${me.scope}`,
      `server   ${api.profile.baseUrl}`,
    ].join('\n'),
  );
}

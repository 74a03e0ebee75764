/**
 * `Bot/{id}/$execute`: runs a bot on an input with the caller's access to the bot's project, and audits it.
 * The bot's `medplum` client is the caller's repository view (the token's scopes, the token's project);
 * `executeBot` from inside a bot recurses through this same function with a depth limit.
 */
import type { HostCall } from '@hookbot/runtime';
import type { Caller } from '../auth/access-token.js';
import type { Repository } from '../fhir/repository.js';
import { forbidden, HookbotError } from '../infra/errors.js';
import type { Services } from '../services.js';
import { dispatchClientCall, repositoryClient } from './fhir-client-bridge.js';
import { runFailureError } from './run-bot.js';
import { judgeRun, runAudited } from './run-audited.js';
import { refuseCodedBots, ruleSetsOnly } from './rule-sets-only.js';
import { userReference } from '../auth/user-reference.js';

const MAX_EXECUTE_DEPTH = 4;
const MAX_RUNS_PER_REQUEST = 25;

export interface ExecuteInput {
  services: Services;
  caller: Caller;
  repo: Repository;
  botId: string;
  input: unknown;
  contentType: string;
  requestIds?: { requestId: string; traceId: string };
  depth?: number;
  budget?: RunBudget;
}

export interface ExecuteOutput {
  result: unknown;
  logs: string;
}

/**
 * One request's share of bot runs, shared by every nested `executeBot`: bounded in number (breadth as well as
 * depth), and closed when the request's own bot has answered, so calls a bot left running are refused.
 */
export interface RunBudget {
  remaining: number;
  open: boolean;
}

/** Wraps a host so that calls arriving after the invocation ended are refused instead of served. */
export function whileOpen(budget: Pick<RunBudget, 'open'>, host: HostCall): HostCall {
  return (client, method, args) => {
    if (!budget.open)
      return Promise.reject(new HookbotError('bot.invocation-finished', 'The invocation has already finished'));
    return host(client, method, args);
  };
}

export async function executeBot(req: ExecuteInput): Promise<ExecuteOutput> {
  const { services, repo, caller } = req;
  const depth = req.depth ?? 0;
  if (depth >= MAX_EXECUTE_DEPTH) {
    throw new HookbotError('bot.execute-limit', `executeBot nesting is limited to ${MAX_EXECUTE_DEPTH} levels`);
  }
  const budget = req.budget ?? { remaining: MAX_RUNS_PER_REQUEST, open: true };
  if (!budget.open) throw new HookbotError('bot.invocation-finished', 'The invocation has already finished');
  if (budget.remaining-- <= 0) {
    throw new HookbotError('bot.execute-limit', `A request may run at most ${MAX_RUNS_PER_REQUEST} bots (executeBot)`);
  }
  // The caller must be able to read the Bot: its scopes here, its project through the cache (which reads within
  // that project, so another project's Bot is a 404). The cache saves a database read per call.
  if (!repo.access.allows('Bot', 'r')) throw forbidden('auth.forbidden-scope', 'Not allowed to read Bot');
  const { bot, code } = await services.bots.getWithCode(repo.access.projectId, req.botId);
  refuseCodedBots(ruleSetsOnly(caller), bot);

  const client = repositoryClient(repo);
  const host: HostCall = whileOpen(budget, (_client, method, args) =>
    dispatchClientCall(client, method, args, async (target, input, contentType) => {
      const id = target.replace(/^Bot\//, '');
      const nested = await executeBot({
        ...req,
        botId: id,
        input,
        contentType: contentType ?? 'application/json',
        depth: depth + 1,
        budget,
      });
      return nested.result;
    }),
  );

  const { result, logs } = await runAudited(
    {
      services,
      projectId: repo.access.projectId,
      bot,
      code,
      input: req.input,
      contentType: req.contentType,
      host,
      clientId: caller.clientId,
      ...(caller.user ? { agent: userReference(caller.user) } : {}),
      ...(req.requestIds ? { requestIds: req.requestIds } : {}),
      // The request's own bot has answered: whatever it left running may no longer call out.
      ...(depth === 0 ? { onSettled: () => (budget.open = false) } : {}),
      subtype: 'execute',
      details: { depth: depth ? String(depth) : undefined },
    },
    (run) => ({ ...judgeRun(run), value: undefined }),
  );
  if (!result.ok) throw runFailureError(result);
  return { result: result.result, logs };
}

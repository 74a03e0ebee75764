/**
 * `hookbot rules deploy FILE`: validates locally, then `POST /fhir/R4/Bot/$deploy-rules {ruleSet}`; the server
 * compiles the rule set into a bot and publishes it as a CDS service.
 */
import path from 'node:path';
import { connect, type CommandContext } from '../context.js';
import { versionOf } from './bot-deploy.js';
import { checkRuleSet, type RulesFileOptions } from './rules-validate.js';
import { inlineRequestFiles, readRuleSet } from './rules-file.js';

interface DeployRulesResponse {
  bot?: { id?: string; name?: string };
  version?: unknown;
}

export async function rulesDeploy(input: CommandContext & RulesFileOptions): Promise<void> {
  const { out } = input;
  const { file, doc, text } = await readRuleSet(input.cwd, input.file);
  await out.step('Validating', async () => checkRuleSet(out, input.file, doc, text), {
    report: () => `Validated ${input.file}`,
  });
  const api = await connect(input);
  const { body } = await out.step(
    'Deploying the rule set',
    async () =>
      api.request<DeployRulesResponse>('POST', '/fhir/R4/Bot/$deploy-rules', {
        json: { ruleSet: await inlineRequestFiles(doc, path.dirname(file)) },
      }),
    { report: () => 'Deployed the rule set' },
  );
  const version = versionOf(body);
  out.result(
    body,
    () => `${out.style.green('✓')} Rule set live as Bot/${body.bot?.id ?? '?'}${version ? ` version ${version}` : ''}`,
  );
}

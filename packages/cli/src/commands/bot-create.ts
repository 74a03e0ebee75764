/**
 * `hookbot bot create NAME [--hook HOOK]`: writes `bots/NAME/{index.ts,index.test.ts,request.json}` and adds the
 * bot (with its `cdsService` when a hook is given) to hookbot.config.json, creating that file if needed.
 */
import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KNOWN_HOOKS, findHook, type KnownHook } from '@hookbot/bots';
import type { CommandContext } from '../context.js';
import { usageError } from '../errors.js';
import { findProject, PROJECT_FILE, type BotEntry, type LoadedProject, writeProject } from '../project.js';
import { botSource, botTest, sampleRequest } from './bot-templates.js';

export interface BotCreateOptions {
  name: string;
  hook?: string;
  description?: string;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

export async function botCreate(input: CommandContext & BotCreateOptions): Promise<void> {
  const { name, out } = input;
  if (!NAME.test(name)) throw usageError(`Bot names use letters, digits, - and _ (got "${name}")`);
  let hook: KnownHook | undefined;
  if (input.hook) {
    hook = findHook(input.hook)?.hook;
    if (!hook) throw usageError(`Unknown hook "${input.hook}"`, [`Known hooks: ${KNOWN_HOOKS.join(', ')}`]);
  }

  const project: LoadedProject = (await findProject(input.cwd)) ?? {
    root: input.cwd,
    file: path.join(input.cwd, PROJECT_FILE),
    config: { bots: [] },
  };
  if (project.config.bots.some((bot) => bot.name === name)) {
    throw usageError(`A bot named "${name}" is already in ${project.file}`);
  }
  const folder = path.join(project.root, 'bots', name);
  const files: [string, string][] = [
    [path.join(folder, 'index.ts'), botSource({ name, ...(hook ? { hook } : {}) })],
    [path.join(folder, 'index.test.ts'), botTest({ name, ...(hook ? { hook } : {}) })],
    [
      path.join(folder, 'request.json'),
      `${JSON.stringify(sampleRequest({ name, ...(hook ? { hook } : {}) }), null, 2)}\n`,
    ],
  ];
  for (const [file] of files) {
    if (await exists(file)) throw usageError(`${path.relative(input.cwd, file)} already exists; not overwriting it`);
  }
  await mkdir(folder, { recursive: true });
  for (const [file, text] of files) await writeFile(file, text);

  const entry: BotEntry = {
    name,
    source: path.posix.join('bots', name, 'index.ts'),
    dist: path.posix.join('dist', `${name}.js`),
    ...(hook
      ? {
          cdsService: {
            hook,
            title: name,
            description: input.description ?? `${name} answers ${hook}`,
          },
        }
      : input.description
        ? { description: input.description }
        : {}),
  };
  project.config.bots.push(entry);
  await writeProject(project);

  const created = files.map(([file]) => path.relative(input.cwd, file) || file);
  out.result({ bot: entry, files: created, config: project.file }, () =>
    [
      `${out.style.green('✓')} Created bot ${out.style.bold(name)}${hook ? ` for ${hook}` : ''}`,
      ...created.map((file) => `  ${file}`),
      `  ${path.relative(input.cwd, project.file) || PROJECT_FILE} (entry added)`,
      '',
      'Next:',
      `  npx tsx --test bots/${name}/index.test.ts`,
      `  hookbot bot deploy ${name}`,
    ].join('\n'),
  );
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

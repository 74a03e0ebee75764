/**
 * `hookbot.config.json`: the bots of a repository, where their source lives and the `cdsService` each is deployed
 * with. Found in the working folder or the nearest parent; paths in it are relative to the file.
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BotCdsService } from '@hookbot/bots';
import { CliError, usageError } from './errors.js';

export const PROJECT_FILE = 'hookbot.config.json';

export interface BotEntry {
  name: string;
  description?: string;
  /** The TypeScript (or JavaScript) entry point. */
  source: string;
  /** Where `bot build` writes the bundle; default `dist/<name>.js`. */
  dist?: string;
  cdsService?: BotCdsService;
}

interface ProjectConfig {
  bots: BotEntry[];
}

export interface LoadedProject {
  root: string;
  file: string;
  config: ProjectConfig;
}

export async function findProject(cwd: string): Promise<LoadedProject | undefined> {
  let dir = path.resolve(cwd);
  for (;;) {
    const file = path.join(dir, PROJECT_FILE);
    if (await exists(file)) return { root: dir, file, config: await readProject(file) };
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export async function requireProject(cwd: string): Promise<LoadedProject> {
  const project = await findProject(cwd);
  if (!project)
    throw usageError(`No ${PROJECT_FILE} in ${cwd} or its parents`, ['Create a bot with hookbot bot create NAME.']);
  return project;
}

async function readProject(file: string): Promise<ProjectConfig> {
  let parsed: Partial<ProjectConfig>;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ProjectConfig>;
  } catch (error) {
    throw new CliError('usage', `${file} is not valid JSON: ${(error as Error).message}`, {}, { cause: error });
  }
  if (!Array.isArray(parsed.bots)) throw usageError(`${file}: "bots" must be a list`);
  return { ...parsed, bots: parsed.bots };
}

export async function writeProject(project: LoadedProject): Promise<void> {
  await writeFile(project.file, `${JSON.stringify(project.config, null, 2)}\n`);
}

export function distPath(project: LoadedProject, bot: BotEntry): string {
  return path.resolve(project.root, bot.dist ?? path.join('dist', `${bot.name}.js`));
}

/** Bots whose name matches NAME or a glob (`*`, `?`); every pattern must match something. */
export function selectBots(project: LoadedProject, patterns: string[]): BotEntry[] {
  if (patterns.length === 0) return project.config.bots;
  const selected = new Set<BotEntry>();
  for (const pattern of patterns) {
    const matcher = globToRegExp(pattern);
    const matches = project.config.bots.filter((bot) => matcher.test(bot.name));
    if (matches.length === 0) {
      const known = project.config.bots.map((bot) => bot.name).join(', ') || 'none';
      throw usageError(`No bot in ${PROJECT_FILE} matches "${pattern}"`, [`Known bots: ${known}`]);
    }
    for (const bot of matches) selected.add(bot);
  }
  return [...selected];
}

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

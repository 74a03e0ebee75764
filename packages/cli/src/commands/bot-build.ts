/**
 * `hookbot bot build [NAME|GLOB...]`: bundles each bot with esbuild into one CommonJS file (`exports.handler`),
 * for the sandbox: platform `neutral`, so an import of a Node built-in fails here rather than at run time.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { build, type Message } from 'esbuild';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { distPath, requireProject, selectBots, type BotEntry, type LoadedProject } from '../project.js';

export interface BotBuildOptions {
  names: string[];
}

export interface BuiltBot {
  name: string;
  source: string;
  outfile: string;
  bytes: number;
}

export async function botBuild(input: CommandContext & BotBuildOptions): Promise<void> {
  const project = await requireProject(input.cwd);
  const built: BuiltBot[] = [];
  for (const bot of selectBots(project, input.names)) {
    built.push(
      await input.out.step(`Building ${bot.name}`, () => bundleBot(project, bot), {
        report: (b) => `Built ${b.name} → ${path.relative(input.cwd, b.outfile)}, ${formatBytes(b.bytes)}`,
      }),
    );
  }
  input.out.result({ built }, () => '');
}

export async function bundleBot(project: LoadedProject, bot: BotEntry): Promise<BuiltBot> {
  const source = path.resolve(project.root, bot.source);
  const outfile = distPath(project, bot);
  try {
    await build({
      entryPoints: [source],
      outfile,
      bundle: true,
      format: 'cjs',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      target: 'es2022',
      sourcemap: false,
      logLevel: 'silent',
      absWorkingDir: project.root,
    });
  } catch (error) {
    const messages = (error as { errors?: Message[] }).errors ?? [];
    throw new CliError('failed', `Cannot build ${bot.name}`, {
      lines: messages.length ? messages.map((m) => formatMessage(project.root, m)) : [(error as Error).message],
    });
  }
  return { name: bot.name, source, outfile, bytes: (await stat(outfile)).size };
}

export async function readBuilt(built: BuiltBot): Promise<{ code: string; sourceCode: string }> {
  const [code, sourceCode] = await Promise.all([readFile(built.outfile, 'utf8'), readFile(built.source, 'utf8')]);
  return { code, sourceCode };
}

function formatMessage(root: string, message: Message): string {
  const where = message.location
    ? `${path.relative(root, path.resolve(root, message.location.file))}:${message.location.line}:${message.location.column + 1}: `
    : '';
  return `${where}${message.text}`;
}

export function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} kB`;
}

/** Runs the BUILT `hookbot` CLI (packages/cli/bin/hookbot.js) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI_BIN = path.join(REPO_ROOT, 'packages/cli/bin/hookbot.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

export function assertCliBuilt(): void {
  if (!existsSync(path.join(REPO_ROOT, 'packages/cli/dist/main.js'))) {
    throw new Error('packages/cli/dist/main.js is missing: run npm run build first');
  }
}

export interface CliRunOptions {
  cwd: string;
  env: Record<string, string>;
}

/** Async on purpose: the server under test runs in this process and must keep answering. */
export function runCli(args: string[], options: CliRunOptions): Promise<CliResult> {
  const child = startCli(args, options);
  return collect(child);
}

export function startCli(args: string[], options: CliRunOptions): ChildProcess {
  return spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
          }
        },
      }),
    );
  });
}

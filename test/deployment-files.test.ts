/**
 * The container files, checked without a container runtime (none on the machines that run this suite): the compose
 * file against the Compose specification's JSON Schema (vendored from github.com/compose-spec/compose-spec,
 * schema/compose-spec.json at 170098ba07d9f53c383a41bfd4c5166b0a4529a6, Apache-2.0), with the services a payer runs;
 * the Dockerfile's build and start commands against package.json's and the README's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };

describe('docker-compose.yml', () => {
  // The schema names draft-07 by its https address, which ajv's draft-07 meta-schema does not carry: the schema
  // itself is not checked against it. Formats (durations) are not checked: ajv knows none of the schema's own.
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, validateFormats: false });
  const validate = ajv.compile(JSON.parse(read('test/fixtures/compose-spec.json')) as object);

  it('is valid against the Compose specification (YAML merge keys resolved, as Compose reads them)', () => {
    expect(validate(compose), ajv.errorsText(validate.errors)).toBe(true);
  });

  it('would be refused by the schema if it misspelled a key or gave a wrong type', () => {
    expect(validate({ services: { a: { image: 'x', enviroment: {} } } })).toBe(false);
    expect(validate({ services: { a: { image: 'x', ports: 'not a list' } } })).toBe(false);
  });

  it('runs PostgreSQL, Redis, two Hookbot instances of one deployment and a proxy in front of both', () => {
    const { services } = compose;
    expect(services.postgres?.image).toMatch(/^postgres:/);
    expect(services.redis?.image).toMatch(/^redis:/);
    const instances = ['hookbot-1', 'hookbot-2'].map((name) => services[name] as ComposeService);
    for (const instance of instances) expect(instance.build).toBe('.');
    for (const name of [
      'HOOKBOT_SECRETS_KEY',
      'DATABASE_URL',
      'REDIS_URL',
      'BASE_URL',
      'HOOKBOT_ADMIN_CLIENT_SECRET',
    ]) {
      const [a, b] = instances.map((i) => i.environment?.[name]);
      expect(a, name).toBeTruthy();
      expect(b, name).toBe(a);
    }
    expect(instances[0]?.environment?.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(instances[0]?.environment?.REDIS_URL).toBe('redis://redis:6379');
    const proxy = services.proxy as ComposeService;
    const mounted = proxy.volumes?.[0]?.split(':')[0] as string;
    const conf = read(mounted);
    expect(conf).toContain('server hookbot-1:8103');
    expect(conf).toContain('server hookbot-2:8103');
    // The proxy is the one hop the instances are told to trust for client addresses.
    expect(instances[0]?.environment?.HOOKBOT_TRUST_PROXY_HOPS).toBe('1');
  });
});

/** Dockerfile instructions, continuation lines joined: `[keyword, arguments]`. */
function instructions(dockerfile: string): [string, string][] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf(' ');
      return [line.slice(0, at).toUpperCase(), line.slice(at + 1).trim()];
    });
}

describe('Dockerfile', () => {
  const steps = instructions(read('Dockerfile'));
  const runs = steps.filter(([k]) => k === 'RUN').map(([, args]) => args);
  const finalStage = steps.slice(steps.map(([k]) => k).lastIndexOf('FROM'));
  const cmd = JSON.parse(finalStage.find(([k]) => k === 'CMD')?.[1] ?? '[]') as string[];
  const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start as string;
  const operators = read('README.md').split('\n## For operators')[1]?.split('\n## ')[0] ?? '';

  it('builds in a stage with a compiler and runs on node:20-bookworm-slim as a non-root user', () => {
    const stages = steps.filter(([k]) => k === 'FROM').map(([, args]) => args);
    expect(stages).toEqual(['node:20-bookworm-slim AS build', 'node:20-bookworm-slim']);
    expect(runs.join('\n')).toMatch(/apt-get install .*python3 make g\+\+/);
    expect(finalStage.find(([k]) => k === 'USER')?.[1]).toBe('node');
    expect(finalStage.some(([k, a]) => k === 'HEALTHCHECK' && a.includes('/readyz'))).toBe(true);
  });

  it('builds and starts with the commands of package.json and the README', () => {
    // `npm start` is the build, then the server: the image builds once and starts the server alone.
    const [build, serve] = start.split(' && ');
    expect(build).toBe('npm run build');
    expect(runs).toContain('npm ci');
    expect(runs).toContain(build);
    expect(runs).toContain('npm prune --omit=dev');
    expect(cmd.join(' ')).toBe(serve);
    for (const command of ['npm ci', build, serve]) expect(operators).toContain(command);
  });
});

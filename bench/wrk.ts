/**
 * wrk driver for the HTTP benchmarks: POSTs one body with fixed headers through a Lua script and parses
 * `--latency` output. wrk (C, event loop) is not the bottleneck the way a Node fetch loop would be on 2 cores.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  connections: number;
  p50Ms: number;
  p99Ms: number;
  rps: number;
  non2xx: number;
}

const POST_LUA = `
function init(args)
  method = args[3] or "POST"
  local f = io.open(args[1], "r")
  body = f:read("*a")
  f:close()
  headers = {}
  for line in io.lines(args[2]) do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then headers[k] = v end
  end
end
function request()
  return wrk.format(method, nil, headers, body ~= "" and body or nil)
end
`;

export function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

export function parseWrk(stdout: string, connections: number): WrkResult {
  const pick = (re: RegExp) => re.exec(stdout)?.[1] ?? '';
  return {
    connections,
    p50Ms: toMs(pick(/^\s*50%\s+(\S+)/m)),
    p99Ms: toMs(pick(/^\s*99%\s+(\S+)/m)),
    rps: Number(pick(/Requests\/sec:\s+([\d.]+)/)),
    non2xx: Number(pick(/Non-2xx or 3xx responses:\s+(\d+)/) || 0),
  };
}

/**
 * POSTs `body` to `url` (or sends `method`, a GET with an empty body) for `seconds` with `connections` open
 * connections (threads: at most 2).
 */
export async function wrkPost(
  url: string,
  options: {
    connections: number;
    seconds: number;
    headers: Record<string, string>;
    body: string;
    method?: 'GET' | 'POST';
  },
): Promise<WrkResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hookbot-wrk-'));
  try {
    const script = path.join(dir, 'post.lua');
    const body = path.join(dir, 'body');
    const headers = path.join(dir, 'headers');
    await writeFile(script, POST_LUA);
    await writeFile(body, options.body);
    await writeFile(
      headers,
      Object.entries(options.headers)
        .map(([k, v]) => `${k}: ${v}\n`)
        .join(''),
    );
    const threads = Math.min(2, options.connections);
    const { stdout } = await run('wrk', [
      ...['-t', String(threads), '-c', String(options.connections), '-d', `${options.seconds}s`],
      ...['--latency', '-s', script, url, '--', body, headers, options.method ?? 'POST'],
    ]);
    return parseWrk(stdout, options.connections);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The table of wrk runs the HTTP benchmarks print: one line per target and connection count. */
export function wrkTable(rows: (WrkResult & { target: string })[], targetWidth: number): string[] {
  const cell = (text: string, width: number) => (width < 0 ? text.padEnd(-width) : text.padStart(width));
  const line = (cells: string[]) => cells.map((c, i) => cell(c, [-targetWidth, 5, 8, 8, 7, 8][i] ?? 8)).join(' ');
  return [
    line(['target', 'conns', 'p50 ms', 'p99 ms', 'req/s', 'non-2xx']),
    ...rows.map((r) =>
      line([
        r.target,
        String(r.connections),
        r.p50Ms.toFixed(2),
        r.p99Ms.toFixed(2),
        r.rps.toFixed(0),
        String(r.non2xx),
      ]),
    ),
  ];
}

/** Entry point of the worker process started by ProcessBotRuntime: a BotRuntime driven over IPC. */
import type { ChildOptions, FromChild, HostErrorInfo, ToChild } from './process-protocol.js';
import { crashed } from './output.js';
import { BotRuntime } from './runtime.js';
import type { BotCode } from './types.js';

const send = (m: FromChild): void => void process.send?.(m);
const options = JSON.parse(process.env['HOOKBOT_RUNTIME_OPTIONS'] ?? '{}') as ChildOptions;
const runtime = new BotRuntime({ ...options, onCatastrophicError: (message) => send({ t: 'catastrophic', message }) });
const codes = new Map<string, BotCode>();
const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
let nextReq = 0;

class RelayedHostError extends Error {
  constructor(
    info: HostErrorInfo,
    readonly status = info.status,
    readonly code = info.code,
  ) {
    super(info.message);
  }
}

process.on('message', (m: ToChild) => {
  switch (m.t) {
    case 'run': {
      const host = (client: string, method: string, args: unknown[]): Promise<unknown> =>
        new Promise((resolve, reject) => {
          const reqId = ++nextReq;
          pending.set(`${m.id}:${reqId}`, { resolve, reject });
          send({ t: 'host', id: m.id, reqId, client, method, args });
        });
      if (m.code) codes.set(m.botId, m.code);
      const code = codes.get(m.botId);
      const run = code
        ? runtime.run({ ...m.options, code, host })
        : Promise.resolve(crashed('The bot runtime process lost the bot code', performance.now()));
      void run.then((result) => send({ t: 'result', id: m.id, result, stats: runtime.stats() }));
      return;
    }
    case 'forget-code':
      codes.clear();
      return;
    case 'reply': {
      const key = `${m.id}:${m.reqId}`;
      const p = pending.get(key);
      pending.delete(key);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(new RelayedHostError(m.error ?? { message: 'Client call failed' }));
      return;
    }
    case 'check':
      void runtime.check(m.code, m.filename).then((check) => send({ t: 'checked', id: m.id, check }));
      return;
    case 'invalidate':
      runtime.invalidate(m.botId);
      return;
    case 'stats':
      send({ t: 'stats', id: m.id, stats: runtime.stats() });
      return;
  }
});

// The parent going away (or closing the channel) ends the worker.
process.on('disconnect', () => process.exit(0));
send({ t: 'ready' });

/**
 * Run by attacks-limits.test.ts in a child process: a Map bomb in an in-process runtime makes V8 print its fatal
 * out-of-memory report ("Last few GCs", "JS stacktrace") on the stderr of the process that owns the isolate, and
 * that report belongs to the test, not to the suite's output. Prints what happened as one JSON line.
 */
import { BotRuntime } from '../index.js';
import { bot, memoryHost } from './helpers.js';

const messages: string[] = [];
const runtime = new BotRuntime({
  defaultLimits: { timeoutMs: 1000, memoryMb: 32 },
  onCatastrophicError: (m) => void messages.push(m),
});
const { host } = memoryHost({});
const code = bot('exports.handler = async () => { const m = new Map(); for (let i = 0; ; i++) m.set(i, { i }); };');
const r = await runtime.run({ code, event: {}, host });
const after = await runtime.run({ code: bot('exports.handler = async () => "still serving";'), event: {}, host });
const healthy = runtime.stats().healthy;
// After a catastrophic error the isolate's thread never finishes, so neither does this process (not even
// process.exit): the test reads this line and kills it.
process.stdout.write(
  `${JSON.stringify({
    kind: r.ok ? 'ok' : r.kind,
    healthy,
    catastrophic: messages.length,
    after: after.ok ? after.result : after.kind,
  })}\n`,
);

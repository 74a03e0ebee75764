/**
 * Runs a thread that does background work (PGlite's, whose statements are mostly batched audit writes) under
 * Linux's SCHED_IDLE policy, so that waking up never takes a core from request handling. Measured on 2 cores: the
 * database thread waking to write a batch took the core from the bot process or the event loop for its whole
 * batch; at 4 connections that was 2–3 ms of a CDS call's p99, and neither `nice 19` nor SCHED_BATCH helped.
 *
 * An idle thread gets no CPU while the server is saturated, so when a statement has waited `RAISE_AFTER_MS` the
 * thread returns to SCHED_OTHER, for at least `KEEP_RAISED_MS` and until the statements in flight are fresh again.
 * Returning needs CAP_SYS_NICE or an RLIMIT_NICE of 20 minus the thread's nice value (man 7 sched): without either,
 * and off Linux, nothing is changed. The policy is set with `chrt` (util-linux), as Node has no call for it, run by
 * one `sh` started with the thread: forking the server itself once it is large stalls its event loop for tens of
 * milliseconds.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';

export type Policy = 'idle' | 'other';

export const RAISE_AFTER_MS = 50;
export const KEEP_RAISED_MS = 1000;
/** Below this, the oldest statement in flight is a fresh one, not one that waited for the CPU. */
const FRESH_MS = 10;
const CHECK_EVERY_MS = 25;
const CAP_SYS_NICE = 23n;

/** The policy for the next interval, given how long the oldest statement in flight has waited. */
export function nextPolicy(current: Policy, oldestWaitMs: number, msInPolicy: number): Policy {
  if (current === 'idle') return oldestWaitMs >= RAISE_AFTER_MS ? 'other' : 'idle';
  return msInPolicy >= KEEP_RAISED_MS && oldestWaitMs < FRESH_MS ? 'idle' : 'other';
}

/**
 * Whether this process may take a thread of nice value `nice` back from SCHED_IDLE to SCHED_OTHER: with
 * CAP_SYS_NICE, or an RLIMIT_NICE of at least 20 - nice (sched(7), setrlimit(2)).
 */
export function canLeaveIdle(
  nice = 0,
  status = readProc('/proc/self/status'),
  limits = readProc('/proc/self/limits'),
): boolean {
  const caps = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (caps && (BigInt(`0x${caps}`) >> CAP_SYS_NICE) & 1n) return true;
  const limit = /^Max nice priority\s+(\S+)/m.exec(limits)?.[1];
  return limit === 'unlimited' || Number(limit) >= 20 - nice;
}

function readProc(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export interface BackgroundPriority {
  readonly policy: Policy;
  /** A statement was sent: watch the waits until the thread is idle again with nothing in flight. */
  watch(): void;
  /** Stops watching; unless `restore` is false (the thread is gone), first returns the thread to SCHED_OTHER. */
  stop(restore?: boolean): Promise<void>;
}

/** Sets a thread's policy; `close` releases what it holds. */
export interface PolicySetter {
  set(tid: number, policy: Policy): Promise<void>;
  close(): void;
}

export interface BackgroundPriorityOptions {
  setter?: () => PolicySetter;
  /** Whether the thread could be returned to SCHED_OTHER (default: Linux, and canLeaveIdle for its nice value). */
  allowed?: () => boolean;
}

/**
 * Puts thread `tid` of this process at idle priority and watches `oldestWaitMs` (how long the oldest statement
 * sent to it has been waiting, 0 when none). Undefined where it cannot be done safely.
 */
export async function backgroundPriority(
  tid: number,
  oldestWaitMs: () => number,
  {
    setter = chrtShell,
    allowed = () => process.platform === 'linux' && canLeaveIdle(niceOf(tid)),
  }: BackgroundPriorityOptions = {},
): Promise<BackgroundPriority | undefined> {
  if (!allowed()) return undefined;
  const policies = setter();
  try {
    await policies.set(tid, 'idle');
  } catch {
    policies.close();
    return undefined;
  }
  let policy: Policy = 'idle';
  let since = performance.now();
  let switching = false;
  let stopped: Promise<void> | undefined;
  // Runs only while there is something to watch: an idle server is not woken 40 times a second.
  let timer: NodeJS.Timeout | undefined;
  const stop = (restore = true): Promise<void> =>
    (stopped ??= (async () => {
      clearInterval(timer);
      // The shell runs commands in order, so this lands after a switch still in flight.
      if (restore) await policies.set(tid, 'other').catch(() => undefined);
      policies.close();
    })());
  const check = () => {
    if (switching) return;
    const waited = oldestWaitMs();
    if (policy === 'idle' && waited === 0) {
      clearInterval(timer);
      timer = undefined;
      return;
    }
    const next = nextPolicy(policy, waited, performance.now() - since);
    if (next === policy) return;
    switching = true;
    policies.set(tid, next).then(
      () => {
        policy = next;
        since = performance.now();
        switching = false;
      },
      // A thread that cannot be moved any more (it has exited, or the shell has) is left as it is.
      () => void stop(false),
    );
  };
  return {
    get policy() {
      return policy;
    },
    watch: () => {
      if (timer || stopped) return;
      timer = setInterval(check, CHECK_EVERY_MS);
      timer.unref();
    },
    stop,
  };
}

function niceOf(tid: number): number {
  try {
    return getPriority(tid);
  } catch {
    return 0;
  }
}

/** `chrt` run by a shell that reads one command per line and answers each with its exit status. */
function chrtShell(): PolicySetter {
  // Nothing of the server's environment (secrets, database URLs) but the PATH that finds chrt. It ignores the
  // signals a terminal or service manager sends the whole group: it must outlive the server's graceful shutdown,
  // and ends when its input does.
  const shell = spawn('sh', ['-c', "trap '' INT TERM HUP; exec sh"], {
    stdio: ['pipe', 'pipe', 'ignore'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const waiting: { resolve(): void; reject(err: Error): void }[] = [];
  let gone: Error | undefined;
  const fail = (err: Error) => {
    gone ??= err;
    for (const w of waiting.splice(0)) w.reject(gone);
  };
  shell.on('error', fail);
  shell.on('exit', () => fail(new Error('sh exited')));
  // A shell that died before its exit was seen makes the next write fail with EPIPE.
  shell.stdin.on('error', fail);
  createInterface({ input: shell.stdout }).on('line', (status) => {
    const w = waiting.shift();
    if (status === '0') w?.resolve();
    else w?.reject(new Error(`chrt exited with status ${status}`));
  });
  // The shell lives as long as the database; it must not keep the process alive after it.
  shell.unref();
  for (const pipe of [shell.stdin, shell.stdout]) (pipe as unknown as Socket).unref();
  return {
    set: (tid, policy) =>
      new Promise((resolve, reject) => {
        if (gone) return reject(gone);
        waiting.push({ resolve, reject });
        shell.stdin.write(`chrt ${policy === 'idle' ? '--idle' : '--other'} --pid 0 ${tid} >/dev/null 2>&1; echo $?\n`);
      }),
    close: () => {
      fail(new Error('closed'));
      shell.stdin.end();
      shell.kill('SIGKILL');
    },
  };
}

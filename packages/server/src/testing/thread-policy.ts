/** Linux scheduling policies of this process's threads, read from /proc (field 41 of a task's `stat`). */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const SCHED_OTHER = '0';
export const SCHED_IDLE = '5';

export function threadPolicy(tid: number | string): string {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38] ?? '';
}

/** The ids of this process's threads under SCHED_IDLE. */
export function idleThreads(): string[] {
  return readdirSync('/proc/self/task').filter((tid) => threadPolicy(tid) === SCHED_IDLE);
}

/** Whether util-linux's chrt is on the PATH; without it the background priority switches itself off. */
export function hasChrt(): boolean {
  return spawnSync('chrt', ['--version']).status === 0;
}

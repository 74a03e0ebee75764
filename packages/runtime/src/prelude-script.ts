/**
 * The trusted code that runs first in every context, as its own script, before any bot code (README, "Design" and
 * "Sealed contexts"). `prelude.ts` turns this module into that script, so it must import nothing at run time (types
 * only); it runs in the isolate, where there is no Node. It removes the globals a bot must not have, captures the
 * intrinsics it needs (a bot may tamper with globals and prototypes afterwards), installs `console` and, for
 * CommonJS bots, the one-shot binder `__hookbotBind(factory)` the bot script's head calls; a sealed prelude also
 * locks the realm down (`lockdown`). It evaluates to the dispatcher (see `Operations`): the host takes it only from
 * this script's completion value, never from a script that contains bot text. Only plain functions (isolated-vm
 * Callbacks, arguments copied) are handed in. A bot that subverts this code only breaks its own answers, which the
 * host treats as untrusted and checks again.
 */

/** Client-call argument limits (JSON characters): per call and per invocation. The host checks them again. */
export const MAX_ARGS_LENGTH = 4 * 1024 * 1024;
export const MAX_ARGS_TOTAL = 16 * 1024 * 1024;

/**
 * How `run` ended, as `<outcome>:<body>`; only this one string crosses the boundary, never an object (nothing is
 * copied through getters). `result`: the JSON result; `too-large`: its length; `bad-output`: `{message}` (not
 * serialisable); `thrown`: `{message, line?}`; `top-level-thrown`: the same, thrown by the module's top level;
 * `no-handler`: `{message}`; `dirty`: a sealed context could not be cleaned, nothing of the call ran.
 */
export type Outcome = 'result' | 'too-large' | 'bad-output' | 'thrown' | 'top-level-thrown' | 'no-handler' | 'dirty';
/** A host answer to a client call, as `<answer>:<body>`: `value` (JSON), `undefined`, `error` (`{message, …}`). */
export type Answer = 'value' | 'undefined' | 'error';
export const DIRTY: `${Outcome}:` = 'dirty:';

export type Send = (callId: string, reqId: number, client: string, method: string, argsJson: string) => void;
export type Log = (callId: string, level: string, message: string) => void;

/** What the host calls, by name, through the dispatcher. */
export interface Operations {
  /** Runs one invocation; `ns` is an ES module's namespace, undefined for a CommonJS bot (its bound factory runs). */
  run(
    send: Send,
    log: Log,
    ns: unknown,
    callId: string,
    eventJson: string,
    clientsJson: string,
    filename: string,
    maxOutput: number,
    maxLog: number,
    maxHostCalls: number,
  ): Promise<string>;
  /** Delivers the host's answer to client call `reqId`. */
  reply(reqId: number, answer: string): void;
  /**
   * Sealed, before an ES module's top level: deletes the globals an earlier call added and reseeds Math.random;
   * false when the context cannot be reused.
   */
  reset(callId: string): boolean;
}
export type Dispatcher = <K extends keyof Operations>(
  op: K,
  ...args: Parameters<Operations[K]>
) => ReturnType<Operations[K]>;

type NullProto = { __proto__: null };
type Described = NullProto & { message: string; line?: number };
interface Call {
  callId: string;
  hostCalls: number;
  maxHostCalls: number;
  argsSent: number;
  logSent: number;
  logBudget: number;
  lineMax: number;
  logCut: boolean;
}
type Pending = NullProto & { resolve(value: unknown): void; reject(reason: unknown): void };
type Factory = (exports: unknown, module: { exports: unknown }) => void;
type AnyFunction = (...args: unknown[]) => unknown;

export function hookbotPrelude(commonJs: boolean, sealed: boolean): Dispatcher {
  'use strict';
  let factory: Factory | undefined;
  const g = globalThis as unknown as Record<PropertyKey, unknown>;
  const removed = ['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'FinalizationRegistry', 'WeakRef'];
  for (let i = 0; i < removed.length; i++) delete g[removed[i] as string];
  if (sealed) {
    // They hold the input and groups of the last match of any regular expression in the context.
    const statics = ['$1', '$2', '$3', '$4', '$5', '$6', '$7', '$8', '$9', 'input', '$_', 'lastMatch', '$&'];
    statics.push('lastParen', '$+', 'leftContext', '$`', 'rightContext', "$'");
    const regExp = RegExp as unknown as Record<string, unknown>;
    for (let i = 0; i < statics.length; i++) delete regExp[statics[i] as string];
  }
  const { freeze, defineProperty, getPrototypeOf: getProto, getOwnPropertyDescriptor: getDesc, isExtensible } = Object;
  const { apply, ownKeys, deleteProperty } = Reflect;
  const { stringify, parse } = JSON;
  const objectToString = Object.prototype.toString;
  const { slice: strSlice, indexOf: strIndexOf } = String.prototype;
  const NativeTypeError = TypeError;
  const NativeWeakSet = WeakSet;
  const NativePromise = Promise;
  const NativeError = Error;
  const toStr = String;
  const toInt = parseInt;
  const slice = (s: string, a: number, b?: number): string => apply(strSlice, s, [a, b]);
  const indexOf = (s: string, t: string, from: number): number => apply(strIndexOf, s, [t, from]);
  const MAX_MESSAGE = 2000;

  let send: Send | null = null;
  let log: Log | null = null;
  let current: Call | null = null;
  let exportsOf: unknown = null;
  let loaded = false;
  let seq = 0;
  const bare = <T>(): T => Object.create(null) as T;
  const pending: Record<number, Pending | undefined> = bare();

  const read = (o: object, k: string): unknown => {
    try {
      return (o as Record<string, unknown>)[k];
    } catch {
      return undefined;
    }
  };
  const tagOf = (v: unknown): string => {
    try {
      return apply(objectToString, v, []);
    } catch {
      return '';
    }
  };
  const outcome = (kind: Outcome, body: string): string => kind + ':' + body;

  function format(v: unknown): string {
    if (typeof v === 'string') return v;
    if (typeof v !== 'object' || v === null) return toStr(v);
    if (tagOf(v) === '[object Error]') {
      const stack = read(v, 'stack');
      if (typeof stack === 'string') return stack;
    }
    try {
      const s = stringify(v) as string | undefined;
      if (typeof s === 'string') return s;
    } catch {
      // not JSON: printed as a string below
    }
    try {
      return toStr(v);
    } catch {
      return '[unprintable]';
    }
  }

  function logger(level: string) {
    return function (...args: unknown[]): void {
      const call = current;
      if (call === null || log === null) return;
      if (call.logSent >= call.logBudget) {
        if (!call.logCut) {
          call.logCut = true;
          log(call.callId, 'warn', '[hookbot] log output truncated');
        }
        return;
      }
      let line = '';
      for (let i = 0; i < args.length && line.length < call.lineMax; i++) {
        line = i === 0 ? format(args[i]) : line + ' ' + format(args[i]);
      }
      line = slice(line, 0, call.lineMax);
      call.logSent += line.length + 1;
      log(call.callId, level, line);
    };
  }
  const con = freeze({
    log: logger('log'),
    info: logger('info'),
    warn: logger('warn'),
    error: logger('error'),
    debug: logger('log'),
    trace: logger('log'),
  });
  defineProperty(g, 'console', { value: con, writable: true, configurable: true, enumerable: false });

  function hostCall(call: Call, client: string, method: string, args: unknown[]): Promise<unknown> {
    return new NativePromise((resolve, reject) => {
      if (current !== call || send === null) throw new NativeError('This bot invocation has already ended');
      if (call.hostCalls >= call.maxHostCalls) throw new NativeError('Too many client calls in one invocation');
      call.hostCalls++;
      const argsJson = stringify(args) as string | undefined;
      if (typeof argsJson !== 'string') throw new NativeError('Client call arguments are not JSON-serialisable');
      // Calls are not awaited by the host before the next one is sent: bound what one invocation can push out.
      if (argsJson.length > MAX_ARGS_LENGTH) throw new NativeError('Client call arguments are too large');
      call.argsSent += argsJson.length;
      if (call.argsSent > MAX_ARGS_TOTAL) throw new NativeError('Too much data sent to clients in one invocation');
      const id = ++seq;
      const entry: Pending = { __proto__: null, resolve, reject };
      pending[id] = entry;
      send(call.callId, id, client, method, argsJson);
    });
  }

  function makeClient(call: Call, name: string) {
    const c = (method: string, args: unknown[]) => hostCall(call, name, method, args);
    return freeze({
      readResource: (resourceType: unknown, id: unknown) => c('readResource', [resourceType, id]),
      readReference: (reference: unknown) => c('readReference', [reference]),
      searchResources: (resourceType: unknown, query: unknown) => c('searchResources', [resourceType, query]),
      searchOne: (resourceType: unknown, query: unknown) => c('searchOne', [resourceType, query]),
      createResource: (resource: unknown) => c('createResource', [resource]),
      updateResource: (resource: unknown) => c('updateResource', [resource]),
      deleteResource: (resourceType: unknown, id: unknown) => c('deleteResource', [resourceType, id]),
      executeBot: (idOrReference: unknown, input: unknown, contentType: unknown) =>
        c('executeBot', [idOrReference, input, contentType]),
    });
  }

  function reply(reqId: number, answer: string): void {
    const p = pending[reqId];
    if (p === undefined) return;
    delete pending[reqId];
    const colon = indexOf(answer, ':', 0);
    const kind = slice(answer, 0, colon) as Answer;
    const body = slice(answer, colon + 1);
    if (kind === 'undefined') return p.resolve(undefined);
    if (kind === 'value') return p.resolve(parse(body));
    const info = parse(body) as { message?: unknown; status?: unknown; code?: unknown };
    const err = new NativeError(typeof info.message === 'string' ? info.message : 'Client call failed');
    if (typeof info.status === 'number') defineProperty(err, 'status', { value: info.status, enumerable: true });
    if (typeof info.code === 'string') defineProperty(err, 'code', { value: info.code, enumerable: true });
    p.reject(err);
  }

  function lineOf(stack: unknown, filename: string): number | undefined {
    if (typeof stack !== 'string') return undefined;
    const needle = filename + ':';
    const firstFrame = indexOf(stack, '\n    at ', 0);
    let at = indexOf(stack, needle, firstFrame < 0 ? 0 : firstFrame);
    // The first frame in the bot's file with a line number (prelude frames are in their own file).
    for (let tries = 0; at >= 0 && tries < 50; tries++) {
      const n = toInt(slice(stack, at + needle.length, at + needle.length + 12), 10);
      if (n > 0) return n;
      at = indexOf(stack, needle, at + needle.length);
    }
    return undefined;
  }

  function describe(e: unknown, filename: string): Described {
    try {
      if (typeof e === 'string') return { __proto__: null, message: slice(e, 0, MAX_MESSAGE) };
      if (typeof e !== 'object' && typeof e !== 'function') {
        return { __proto__: null, message: 'A non-Error value was thrown: ' + slice(toStr(e), 0, 200) };
      }
      if (e === null) return { __proto__: null, message: 'A non-Error value was thrown: null' };
      const isError = tagOf(e) === '[object Error]';
      const message = read(e, 'message');
      const d: Described = { __proto__: null, message: '' };
      if (typeof message === 'string') d.message = slice(message, 0, MAX_MESSAGE);
      else if (!isError) d.message = 'A non-Error value was thrown';
      if (isError) {
        const name = read(e, 'name');
        if (typeof name === 'string' && name !== 'Error' && name.length > 0) {
          d.message = slice(name, 0, 64) + ': ' + d.message;
        }
        const line = lineOf(read(e, 'stack'), filename);
        if (line !== undefined) d.line = line;
      }
      return d;
    } catch {
      return { __proto__: null, message: 'An error was thrown that could not be described' };
    }
  }

  /** The module itself, its `handler`, its `default`, or its default's `handler`. */
  function findHandler(m: unknown, isDefault = false): AnyFunction | undefined {
    if (typeof m === 'function') return m as AnyFunction;
    if (typeof m !== 'object' || m === null) return undefined;
    const h = (m as { handler?: unknown }).handler;
    if (typeof h === 'function') return h as AnyFunction;
    return isDefault ? undefined : findHandler((m as { default?: unknown }).default, true);
  }

  const run: Operations['run'] = async (
    sendFn,
    logFn,
    ns,
    callId,
    eventJson,
    clientsJson,
    filename,
    maxOutput,
    maxLog,
    maxHostCalls,
  ) => {
    if (send === null) {
      send = sendFn;
      log = logFn;
    }
    // Before any bot code of this call (an ES module's top level has had its `reset` already): a context whose
    // leftovers cannot be removed is not used (the host retries the call in a new context).
    if (sealed && commonJs && !prepare(callId)) return DIRTY;
    const call: Call & NullProto = {
      __proto__: null,
      callId,
      hostCalls: 0,
      maxHostCalls,
      argsSent: 0,
      logSent: 0,
      logBudget: maxLog * 8,
      lineMax: maxLog,
      logCut: false,
    };
    current = call;
    try {
      if (sealed) loaded = false;
      if (!loaded) {
        try {
          if (!commonJs) {
            exportsOf = ns;
          } else if (typeof factory === 'function') {
            const module = { exports: {} };
            apply(factory, module.exports, [module.exports, module]);
            exportsOf = module.exports;
          }
          loaded = true;
        } catch (e) {
          return outcome('top-level-thrown', stringify(describe(e, filename)));
        }
      }
      const handler = findHandler(exportsOf);
      if (typeof handler !== 'function') {
        const missing: Described = { __proto__: null, message: 'The bot does not export a handler function' };
        return outcome('no-handler', stringify(missing));
      }
      const names = parse(clientsJson) as string[];
      const clients = {};
      let first;
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string;
        const client = makeClient(call, name);
        defineProperty(clients, name, { value: client, enumerable: true });
        if (i === 0) first = client;
      }
      freeze(clients);
      const result: unknown = await apply(handler, undefined, [first, parse(eventJson), clients]);
      let out: string | undefined = 'null';
      if (result !== undefined) {
        try {
          out = stringify(result) as string | undefined;
        } catch (e) {
          return outcome('bad-output', stringify(describe(e, filename)));
        }
        if (typeof out !== 'string') {
          const bad: Described = {
            __proto__: null,
            message: 'The result is not JSON-serialisable (' + typeof result + ')',
          };
          return outcome('bad-output', stringify(bad));
        }
      }
      if (out.length > maxOutput) return outcome('too-large', toStr(out.length));
      return outcome('result', out);
    } catch (e) {
      return outcome('thrown', stringify(describe(e, filename)));
    } finally {
      if (current === call) current = null;
    }
  };

  const operations: NullProto & Operations = {
    __proto__: null,
    run,
    reply,
    reset: (callId) => sealed && prepare(callId),
  };
  function dispatch(op: keyof Operations, ...args: unknown[]): unknown {
    const operation = operations[op] as AnyFunction | undefined;
    return operation === undefined ? undefined : apply(operation, undefined, args);
  }
  if (commonJs) {
    defineProperty(g, '__hookbotBind', {
      configurable: true,
      value: function (f: Factory) {
        delete g.__hookbotBind;
        // Sealed: the factory outlives the call (it is run afresh for each), so it and its prototype are frozen.
        if (sealed) harden(f);
        factory = f;
      },
    });
  }

  // ---- sealed contexts ----
  let globalKeys: Record<PropertyKey, true | undefined> = bare();
  let globalProto: unknown = null;

  // The global object is never frozen (see reset); it is reachable from itself (globalThis).
  function harden(root: unknown, seen?: WeakSet<object>): void {
    if (seen === undefined) {
      seen = new NativeWeakSet();
      seen.add(g);
    }
    const todo = [root];
    while (todo.length > 0) {
      const o = todo.pop();
      if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue;
      seen.add(o);
      freeze(o);
      todo.push(getProto(o));
      const keys = ownKeys(o);
      for (let i = 0; i < keys.length; i++) {
        const d = getDesc(o, keys[i] as PropertyKey);
        if (d === undefined) continue;
        if ('value' in d) todo.push(d.value);
        else {
          todo.push(d.get);
          todo.push(d.set);
        }
      }
    }
  }

  // Frozen prototypes make an assignment that would shadow an inherited property throw ("override mistake"), which
  // common code does (this.name = 'MyError', Foo.prototype.toString = ...): these become accessors whose setter
  // defines the property on the object assigned to, as an ordinary assignment would.
  // The original values live on only in the accessors' closures, where no walk of properties finds them.
  const tamed: unknown[] = [];
  function tame(proto: object, names: string[]): void {
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const d = getDesc(proto, name);
      if (d === undefined || !('value' in d) || !d.configurable) continue;
      const value: unknown = d.value;
      tamed.push(value);
      defineProperty(proto, name, {
        get: function () {
          return value;
        },
        set: function (this: unknown, v: unknown) {
          if (this === proto) throw new NativeTypeError("Cannot assign to read only property '" + name + "'");
          defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
        },
        enumerable: d.enumerable ?? false,
        configurable: false,
      });
    }
  }

  function lockdown(): void {
    tame(Object.prototype, [
      'constructor',
      'toString',
      'toLocaleString',
      'valueOf',
      'hasOwnProperty',
      'isPrototypeOf',
      'propertyIsEnumerable',
    ]);
    tame(Function.prototype, ['constructor', 'toString']);
    tame(Array.prototype, ['toString']);
    const errors = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError];
    for (let i = 0; i < errors.length; i++) {
      tame((errors[i] as ErrorConstructor).prototype, ['constructor', 'name', 'message', 'toString']);
    }
    // Intrinsics that no global names: reached through instances made here.
    const hidden: unknown[] = [
      function* () {},
      async function () {},
      async function* () {},
      (function* () {})(),
      (async function* () {})(),
      [][Symbol.iterator](),
      new Map()[Symbol.iterator](),
      new Set()[Symbol.iterator](),
      ''[Symbol.iterator](),
      /a/g[Symbol.matchAll](''),
      // A strict arguments object (this whole function is strict): its `callee` is %ThrowTypeError%.
      (function () {
        // eslint-disable-next-line prefer-rest-params
        return arguments;
      })(),
    ];
    if (typeof Intl === 'object' && typeof Intl.Segmenter === 'function') {
      const segments = new Intl.Segmenter().segment('');
      hidden.push(segments, segments[Symbol.iterator]());
    }
    // Iterator helpers, where V8 has them (Node 22); not in the ES2023 lib.
    const values = [][Symbol.iterator]() as unknown as { map?: (f: (x: unknown) => unknown) => unknown };
    if (typeof values.map === 'function') hidden.push(values.map((x) => x));
    const iterator = g.Iterator;
    const from: unknown = typeof iterator === 'function' ? (iterator as { from?: unknown }).from : undefined;
    if (typeof from === 'function') hidden.push(apply(from, iterator, [{ next: () => ({ done: true }) }]));
    // Math.random's state would carry from call to call: it is reseeded for each call instead (see reseed), and
    // first seeded from V8's own generator.
    const nativeRandom = Math.random;
    r0 = ((nativeRandom() * 4294967296) >>> 0) | 1;
    r1 = (nativeRandom() * 4294967296) >>> 0;
    r2 = (nativeRandom() * 4294967296) >>> 0;
    r3 = (nativeRandom() * 4294967296) >>> 0;
    defineProperty(Math, 'random', { value: random });
    const seen = new NativeWeakSet<object>();
    seen.add(g);
    for (let i = 0; i < tamed.length; i++) harden(tamed[i], seen);
    for (let i = 0; i < hidden.length; i++) harden(hidden[i], seen);
    const keys = ownKeys(g);
    globalKeys = bare();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as PropertyKey;
      const d = getDesc(g, k);
      if (k === '__hookbotBind' || d === undefined) continue;
      globalKeys[k] = true;
      if ('value' in d) {
        defineProperty(g, k, { writable: false, configurable: false });
        harden(d.value, seen);
      } else {
        defineProperty(g, k, { configurable: false });
        harden(d.get, seen);
        harden(d.set, seen);
      }
    }
    globalProto = getProto(g);
    harden(globalProto, seen);
  }

  // xorshift128 over four 32-bit words, seeded from the call's random id, which the bot never sees.
  let r0 = 1,
    r1 = 2,
    r2 = 3,
    r3 = 4;
  function reseed(callId: string): void {
    const hex = typeof callId === 'string' ? callId : '';
    const words = [0, 0, 0, 0];
    let w = 0,
      n = 0;
    for (let i = 0; i < hex.length && w < 4; i++) {
      const c = toInt(hex[i] as string, 16);
      if (c !== c) continue;
      words[w] = (((words[w] as number) << 4) | c) >>> 0;
      if (++n === 8) {
        n = 0;
        w++;
      }
    }
    r0 = (words[0] as number) | 1;
    r1 = words[1] as number;
    r2 = words[2] as number;
    r3 = words[3] as number;
  }
  function next32(): number {
    let t = r3;
    const s = r0;
    r3 = r2;
    r2 = r1;
    r1 = s;
    t ^= t << 11;
    t ^= t >>> 8;
    r0 = (t ^ s ^ (s >>> 19)) >>> 0;
    return r0;
  }
  const random = function random(): number {
    return ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
  };

  // Readies a sealed context for a call: deletes the globals an earlier call added and reseeds Math.random. False
  // when a global cannot be deleted or the global object was sealed or re-parented (the context is then discarded).
  function prepare(callId: string): boolean {
    if (!reset()) return false;
    reseed(callId);
    return true;
  }

  function reset(): boolean {
    if (!isExtensible(g) || getProto(g) !== globalProto) return false;
    const keys = ownKeys(g);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as PropertyKey;
      if (globalKeys[k] === true) continue;
      if (!deleteProperty(g, k)) return false;
    }
    return true;
  }

  if (sealed) lockdown();
  return dispatch as Dispatcher;
}

/**
 * The trusted code that runs first in every context, as its own script, before any bot code. It removes the
 * globals a bot must not have, captures the intrinsics it needs (a bot may tamper with globals and prototypes
 * afterwards), installs `console`, and evaluates to the `hookbot(op, ...)` dispatcher the host calls through a
 * Reference it keeps. The dispatcher is only ever taken from this script's completion value, never from a script
 * that contains bot text. For CommonJS bots it also installs a one-shot global `__hookbotBind(factory)`, which
 * the bot script's head calls with the wrapped bot (and which deletes itself).
 *
 * A sealed prelude (untrusted bots whose contexts are reused, see README "Sealed contexts") also locks the realm
 * down before any bot text runs: the RegExp legacy statics (the last match) are deleted; the intrinsics, everything
 * reachable from the global object and the hidden intrinsics are frozen; the global object's own properties are made
 * read-only. The global object itself stays extensible: globals a call adds are deleted before the next call (see
 * `prepare`). The bot's module is evaluated afresh for every call, so no module state survives either. Assigning to an
 * inherited `toString`, `constructor`, `name` or `message` still works (the "override mistake" is tamed).
 *
 *   hookbot('run', send, log, ns, callId, eventJson, clientsJson, filename, maxOutput, maxLog, maxHostCalls)
 *     ns: the ES module's namespace; undefined for a CommonJS bot (its bound factory is used)
 *     → Promise<string>  one tagged string, never an object (nothing is copied through getters):
 *       'R' + json result | 'L' + length (too large) | 'B' + json {message} (not serialisable)
 *       'T' + json {message, line?} (thrown) | 'X' + same, thrown by the top level | 'C' + json {message}
 *   hookbot('reply', reqId, tagged)  delivers a host answer: 'U' undefined | 'O' + json | 'E' + json {message,…}
 *   hookbot('reset', callId)  sealed, before an ES module's top level: deletes the globals an earlier call added and
 *     reseeds Math.random → false when the context cannot be reused
 *
 * Only plain functions (isolated-vm Callbacks whose arguments are copied) are handed in; no Reference,
 * ExternalCopy or the ivm module is ever visible in the context. If a bot subverts this code it only breaks its
 * own answers, which the host treats as untrusted anyway; the host enforces the client-call limits again.
 */

/** Client-call argument limits (JSON characters): per call and per invocation. The host checks them again. */
export const MAX_ARGS_LENGTH = 4 * 1024 * 1024;
export const MAX_ARGS_TOTAL = 16 * 1024 * 1024;
/** What `run` answers, before any bot code ran, when a sealed context cannot be cleaned for the call. */
export const DIRTY = '!';

const SOURCE = String.raw`(function hookbotPrelude(commonJs, sealed) {
  'use strict';
  let factory;
  const g = globalThis;
  const removed = ['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'FinalizationRegistry', 'WeakRef'];
  for (let i = 0; i < removed.length; i++) delete g[removed[i]];
  if (sealed) {
    // They hold the input and groups of the last match of any regular expression in the context.
    const statics = ['$1', '$2', '$3', '$4', '$5', '$6', '$7', '$8', '$9', 'input', '$_', 'lastMatch', '$&',
      'lastParen', '$+', 'leftContext', '$\u0060', 'rightContext', "$'"];
    for (let i = 0; i < statics.length; i++) delete RegExp[statics[i]];
  }
  const freeze = Object.freeze, defineProperty = Object.defineProperty, objectToString = Object.prototype.toString;
  const getProto = Object.getPrototypeOf, getDesc = Object.getOwnPropertyDescriptor, ownKeys = Reflect.ownKeys;
  const isExtensible = Object.isExtensible, deleteProperty = Reflect.deleteProperty;
  const NativeTypeError = TypeError, NativeWeakSet = WeakSet;
  const apply = Reflect.apply, stringify = JSON.stringify, parse = JSON.parse, toStr = String, toInt = parseInt;
  const NativePromise = Promise, NativeError = Error;
  const strSlice = String.prototype.slice, strIndexOf = String.prototype.indexOf;
  const slice = (s, a, b) => apply(strSlice, s, [a, b]);
  const indexOf = (s, t, from) => apply(strIndexOf, s, [t, from]);
  const MAX_MESSAGE = 2000, MAX_ARGS_CHARS = ${MAX_ARGS_LENGTH}, MAX_ARGS_TOTAL = ${MAX_ARGS_TOTAL};

  let send = null, log = null, exportsOf = null, loaded = false, current = null, seq = 0;
  const pending = { __proto__: null };

  const read = (o, k) => { try { return o[k]; } catch (_) { return undefined; } };
  const tagOf = (v) => { try { return apply(objectToString, v, []); } catch (_) { return ''; } };

  function format(v) {
    if (typeof v === 'string') return v;
    if (typeof v !== 'object' || v === null) return toStr(v);
    if (tagOf(v) === '[object Error]') {
      const stack = read(v, 'stack');
      if (typeof stack === 'string') return stack;
    }
    try { const s = stringify(v); if (typeof s === 'string') return s; } catch (_) {}
    try { return toStr(v); } catch (_) { return '[unprintable]'; }
  }

  function logger(level) {
    return function () {
      const call = current;
      if (call === null) return;
      if (call.logSent >= call.logBudget) {
        if (!call.logCut) { call.logCut = true; log(call.callId, 'warn', '[hookbot] log output truncated'); }
        return;
      }
      let line = '';
      for (let i = 0; i < arguments.length && line.length < call.lineMax; i++) {
        line = i === 0 ? format(arguments[i]) : line + ' ' + format(arguments[i]);
      }
      line = slice(line, 0, call.lineMax);
      call.logSent += line.length + 1;
      log(call.callId, level, line);
    };
  }
  const con = freeze({ log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'),
    debug: logger('log'), trace: logger('log') });
  defineProperty(g, 'console', { value: con, writable: true, configurable: true, enumerable: false });

  function hostCall(call, client, method, args) {
    return new NativePromise((resolve, reject) => {
      if (current !== call) throw new NativeError('This bot invocation has already ended');
      if (call.hostCalls >= call.maxHostCalls) throw new NativeError('Too many client calls in one invocation');
      call.hostCalls++;
      const argsJson = stringify(args);
      if (typeof argsJson !== 'string') throw new NativeError('Client call arguments are not JSON-serialisable');
      // Calls are not awaited by the host before the next one is sent: bound what one invocation can push out.
      if (argsJson.length > MAX_ARGS_CHARS) throw new NativeError('Client call arguments are too large');
      call.argsSent += argsJson.length;
      if (call.argsSent > MAX_ARGS_TOTAL) throw new NativeError('Too much data sent to clients in one invocation');
      const id = ++seq;
      pending[id] = { __proto__: null, resolve, reject };
      send(call.callId, id, client, method, argsJson);
    });
  }

  function makeClient(call, name) {
    const c = (method, args) => hostCall(call, name, method, args);
    return freeze({
      readResource: (resourceType, id) => c('readResource', [resourceType, id]),
      readReference: (reference) => c('readReference', [reference]),
      searchResources: (resourceType, query) => c('searchResources', [resourceType, query]),
      searchOne: (resourceType, query) => c('searchOne', [resourceType, query]),
      createResource: (resource) => c('createResource', [resource]),
      updateResource: (resource) => c('updateResource', [resource]),
      deleteResource: (resourceType, id) => c('deleteResource', [resourceType, id]),
      executeBot: (idOrReference, input, contentType) => c('executeBot', [idOrReference, input, contentType]),
    });
  }

  function reply(id, tagged) {
    const p = pending[id];
    if (p === undefined) return;
    delete pending[id];
    const tag = tagged[0], body = slice(tagged, 1);
    if (tag === 'U') { p.resolve(undefined); return; }
    if (tag === 'O') { p.resolve(parse(body)); return; }
    const info = parse(body);
    const err = new NativeError(typeof info.message === 'string' ? info.message : 'Client call failed');
    if (typeof info.status === 'number') defineProperty(err, 'status', { value: info.status, enumerable: true });
    if (typeof info.code === 'string') defineProperty(err, 'code', { value: info.code, enumerable: true });
    p.reject(err);
  }

  function lineOf(stack, filename) {
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

  function describe(e, filename) {
    try {
      if (typeof e === 'string') return { __proto__: null, message: slice(e, 0, MAX_MESSAGE) };
      if (typeof e !== 'object' && typeof e !== 'function') {
        return { __proto__: null, message: 'A non-Error value was thrown: ' + slice(toStr(e), 0, 200) };
      }
      if (e === null) return { __proto__: null, message: 'A non-Error value was thrown: null' };
      const isError = tagOf(e) === '[object Error]';
      const message = read(e, 'message');
      const d = { __proto__: null, message: '' };
      if (typeof message === 'string') d.message = slice(message, 0, MAX_MESSAGE);
      else if (!isError) d.message = 'A non-Error value was thrown';
      if (isError) {
        const name = read(e, 'name');
        if (typeof name === 'string' && name !== 'Error' && name.length > 0) d.message = slice(name, 0, 64) + ': ' + d.message;
        const line = lineOf(read(e, 'stack'), filename);
        if (line !== undefined) d.line = line;
      }
      return d;
    } catch (_) {
      return { __proto__: null, message: 'An error was thrown that could not be described' };
    }
  }

  function findHandler(m) {
    if (typeof m === 'function') return m;
    if ((typeof m !== 'object' && typeof m !== 'function') || m === null) return undefined;
    const h = m.handler;
    if (typeof h === 'function') return h;
    const d = m.default;
    if (typeof d === 'function') return d;
    if (typeof d === 'object' && d !== null && typeof d.handler === 'function') return d.handler;
    return undefined;
  }

  async function run(sendFn, logFn, ns, callId, eventJson, clientsJson, filename, maxOutput, maxLog, maxHostCalls) {
    if (send === null) { send = sendFn; log = logFn; }
    // Before any bot code of this call (an ES module's top level has had its 'reset' op already): a context whose
    // leftovers cannot be removed is not used (the host retries the call in a new context).
    if (sealed && commonJs && !prepare(callId)) return DIRTY;
    const call = { __proto__: null, callId, hostCalls: 0, maxHostCalls, argsSent: 0, logSent: 0, logBudget: maxLog * 8,
      lineMax: maxLog, logCut: false };
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
          return 'X' + stringify(describe(e, filename));
        }
      }
      const handler = findHandler(exportsOf);
      if (typeof handler !== 'function') {
        return 'C' + stringify({ __proto__: null, message: 'The bot does not export a handler function' });
      }
      const names = parse(clientsJson);
      const clients = {};
      let first;
      for (let i = 0; i < names.length; i++) {
        const client = makeClient(call, names[i]);
        defineProperty(clients, names[i], { value: client, enumerable: true });
        if (i === 0) first = client;
      }
      freeze(clients);
      const result = await apply(handler, undefined, [first, parse(eventJson), clients]);
      let out = 'null';
      if (result !== undefined) {
        try { out = stringify(result); } catch (e) { return 'B' + stringify(describe(e, filename)); }
        if (typeof out !== 'string') {
          return 'B' + stringify({ __proto__: null, message: 'The result is not JSON-serialisable (' + typeof result + ')' });
        }
      }
      if (out.length > maxOutput) return 'L' + out.length;
      return 'R' + out;
    } catch (e) {
      return 'T' + stringify(describe(e, filename));
    } finally {
      if (current === call) current = null;
    }
  }

  function hookbot(op, a, b, c, d, e, f, h, i, j, k) {
    if (op === 'reply') return reply(a, b);
    if (op === 'reset') return sealed && prepare(a);
    if (op === 'run') return run(a, b, c, d, e, f, h, i, j, k);
    return undefined;
  }
  if (commonJs) {
    defineProperty(g, '__hookbotBind', { configurable: true, value: function (f) {
      delete g.__hookbotBind;
      // Sealed: the factory outlives the call (it is run afresh for each), so it and its prototype are frozen.
      if (sealed) harden(f);
      factory = f;
    } });
  }

  // ---- sealed contexts ----
  const DIRTY = '${DIRTY}';
  let globalKeys = null, globalProto = null;

  // The global object is never frozen (see reset); it is reachable from itself (globalThis).
  function harden(root, seen) {
    if (seen === undefined) { seen = new NativeWeakSet(); seen.add(g); }
    const todo = [root];
    while (todo.length > 0) {
      const o = todo.pop();
      if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue;
      seen.add(o);
      freeze(o);
      todo.push(getProto(o));
      const keys = ownKeys(o);
      for (let i = 0; i < keys.length; i++) {
        const d = getDesc(o, keys[i]);
        if (d === undefined) continue;
        if ('value' in d) todo.push(d.value);
        else { todo.push(d.get); todo.push(d.set); }
      }
    }
  }

  // Frozen prototypes make an assignment that would shadow an inherited property throw ("override mistake"), which
  // common code does (this.name = 'MyError', Foo.prototype.toString = ...): these become accessors whose setter
  // defines the property on the object assigned to, as an ordinary assignment would.
  // The original values live on only in the accessors' closures, where no walk of properties finds them.
  const tamed = [];
  function tame(proto, names) {
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const d = getDesc(proto, name);
      if (d === undefined || !('value' in d) || !d.configurable) continue;
      const value = d.value;
      tamed.push(value);
      defineProperty(proto, name, {
        get: function () { return value; },
        set: function (v) {
          if (this === proto) throw new NativeTypeError("Cannot assign to read only property '" + name + "'");
          defineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true });
        },
        enumerable: d.enumerable,
        configurable: false,
      });
    }
  }

  function lockdown() {
    tame(Object.prototype, ['constructor', 'toString', 'toLocaleString', 'valueOf', 'hasOwnProperty',
      'isPrototypeOf', 'propertyIsEnumerable']);
    tame(Function.prototype, ['constructor', 'toString']);
    tame(Array.prototype, ['toString']);
    const errors = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError, AggregateError];
    for (let i = 0; i < errors.length; i++) tame(errors[i].prototype, ['constructor', 'name', 'message', 'toString']);
    // Intrinsics that no global names: reached through instances made here.
    const hidden = [function* () {}, async function () {}, async function* () {}, (function* () {})(),
      (async function* () {})(), [][Symbol.iterator](), new Map()[Symbol.iterator](), new Set()[Symbol.iterator](),
      ''[Symbol.iterator](), /a/g[Symbol.matchAll](''), (function () { return arguments; })(),
      (function () { 'use strict'; return arguments; })()];
    if (typeof Intl === 'object' && typeof Intl.Segmenter === 'function') {
      const segments = new Intl.Segmenter().segment('');
      hidden.push(segments, segments[Symbol.iterator]());
    }
    const values = [][Symbol.iterator]();
    if (typeof values.map === 'function') hidden.push(values.map((x) => x));
    if (typeof Iterator === 'function' && typeof Iterator.from === 'function') {
      hidden.push(Iterator.from({ next: () => ({ done: true, value: undefined }) }));
    }
    // Math.random's state would carry from call to call: it is reseeded for each call instead (see reseed), and
    // first seeded from V8's own generator.
    const nativeRandom = Math.random;
    r0 = (nativeRandom() * 4294967296) >>> 0 | 1; r1 = (nativeRandom() * 4294967296) >>> 0;
    r2 = (nativeRandom() * 4294967296) >>> 0; r3 = (nativeRandom() * 4294967296) >>> 0;
    defineProperty(Math, 'random', { value: random });
    const seen = new NativeWeakSet();
    seen.add(g);
    for (let i = 0; i < tamed.length; i++) harden(tamed[i], seen);
    for (let i = 0; i < hidden.length; i++) harden(hidden[i], seen);
    const keys = ownKeys(g);
    globalKeys = { __proto__: null };
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const d = getDesc(g, k);
      if (k === '__hookbotBind' || d === undefined) continue;
      globalKeys[k] = true;
      if ('value' in d) { defineProperty(g, k, { writable: false, configurable: false }); harden(d.value, seen); }
      else { defineProperty(g, k, { configurable: false }); harden(d.get, seen); harden(d.set, seen); }
    }
    globalProto = getProto(g);
    harden(globalProto, seen);
  }

  // xorshift128 over four 32-bit words, seeded from the call's random id, which the bot never sees.
  let r0 = 1, r1 = 2, r2 = 3, r3 = 4;
  function reseed(callId) {
    const hex = typeof callId === 'string' ? callId : '';
    const words = [0, 0, 0, 0];
    let w = 0, n = 0;
    for (let i = 0; i < hex.length && w < 4; i++) {
      const c = toInt(hex[i], 16);
      if (c !== c) continue;
      words[w] = ((words[w] << 4) | c) >>> 0;
      if (++n === 8) { n = 0; w++; }
    }
    r0 = words[0] | 1; r1 = words[1]; r2 = words[2]; r3 = words[3];
  }
  function next32() {
    let t = r3;
    const s = r0;
    r3 = r2; r2 = r1; r1 = s;
    t ^= t << 11; t ^= t >>> 8;
    r0 = (t ^ s ^ (s >>> 19)) >>> 0;
    return r0;
  }
  const random = function random() { return ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992; };

  // Readies a sealed context for a call: deletes the globals an earlier call added and reseeds Math.random. False
  // when a global cannot be deleted or the global object was sealed or re-parented (the context is then discarded).
  function prepare(callId) {
    if (!reset()) return false;
    reseed(callId);
    return true;
  }

  function reset() {
    if (!isExtensible(g) || getProto(g) !== globalProto) return false;
    const keys = ownKeys(g);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (globalKeys[k] === true) continue;
      if (!deleteProperty(g, k)) return false;
    }
    return true;
  }

  if (sealed) lockdown();
  return hookbot;
})`;

/** The prelude for CommonJS bots (with the one-shot binder) or ES-module bots, sealed or not. */
export function preludeFor(commonJs: boolean, sealed: boolean): string {
  return `${SOURCE}(${commonJs}, ${sealed});\n`;
}

/** The prelude's filename in stack traces (bot frames are told apart by the bot's own filename). */
export const PRELUDE_FILENAME = 'hookbot-prelude.js';

/**
 * Head and tail around CommonJS bot code: the script hands the wrapped bot to the prelude's binder. The callee is
 * evaluated before the argument, so without the prelude (the binder is missing) the script throws before any bot
 * text runs. Text that closes the wrapper early can only change which function is bound, which is bot code either
 * way, called by `run` within the invocation's limits. The head is one line, so bot line numbers are unchanged.
 */
export const CJS_HEAD = `__hookbotBind((function (exports, module) {`;
// `void 0` makes the script's completion value undefined, whatever the text before it: nothing large is copied out.
export const CJS_TAIL = '\n}));void 0;';
/** Columns taken by the head on the bot's first line. */
export const CJS_FIRST_LINE_COLUMNS = CJS_HEAD.length;

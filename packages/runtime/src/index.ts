export { BotRuntime } from './runtime.js';
export type * from './types.js';
export { ProcessBotRuntime, type ProcessRuntimeOptions } from './process-runtime.js';

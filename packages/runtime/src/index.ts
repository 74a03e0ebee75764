export { BotRuntime } from './runtime.js';
export type {
  BotCode,
  CompileCheck,
  HostCall,
  LogLine,
  RunFailureKind,
  RunLimits,
  RunOptions,
  RunResult,
  RuntimeOptions,
  RuntimeStats,
  SandboxRuntime,
} from './types.js';
export { ProcessBotRuntime, type ProcessRuntimeOptions } from './process-runtime.js';

export { run, main, type RunOptions } from './main.js';
export { parseArgv, type Invocation, type GlobalOptions } from './cli.js';
export { CliError, EXIT_CODES, type CliErrorCode } from './errors.js';
export { renderCdsResponse, renderCard } from './cards.js';

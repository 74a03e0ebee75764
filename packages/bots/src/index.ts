/** `@hookbot/bots`: cds/ and rules/ together; the esbuild bundler for rule bots is `@hookbot/bots/build`. */
export * from './cds/index.js';
export * from './rules/index.js';

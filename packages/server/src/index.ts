export { createApp, createRouters } from './app.js';
export { loadConfig, type Config } from './infra/config.js';
export { startServer, createServices, type RunningServer } from './server.js';

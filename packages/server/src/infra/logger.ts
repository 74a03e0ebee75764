import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Secrets and PHI never reach a log line: credentials and bodies are redacted by path, and
 * request logging records method, route, status and timing only.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'hookbot' },
    redact: {
      paths: [
        'authorization',
        'headers.authorization',
        'req.headers.authorization',
        '*.client_secret',
        '*.clientSecret',
        '*.access_token',
        '*.fhirAuthorization',
        '*.prefetch',
        '*.context',
        'body',
      ],
      censor: '[redacted]',
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

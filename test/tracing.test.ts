/**
 * OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, a CDS call is one trace, continued from the caller's
 * `traceparent` and carrying the trace id the response names, with the bot run and the outbound prefetch call as
 * spans inside it; the EHR receives the trace context; and no span names the patient.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  fhirAuthorization,
  patientView,
  PREFETCHING_SERVICE,
  SCRIPT_BOT,
  startCdsHarness,
  type CdsHarness,
} from './support/cds.js';
import { PATIENT_A } from './support/ehr-server.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

interface OtlpExport {
  resourceSpans?: { resource?: unknown; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

const spans: OtlpSpan[] = [];
let collector: http.Server;
let h: CdsHarness;
let serviceId: string;

beforeAll(async () => {
  collector = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
        for (const rs of body.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  collector.listen(0, '127.0.0.1');
  await once(collector, 'listening');
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  h = await startCdsHarness({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } });
  serviceId = await h.deployService(PREFETCHING_SERVICE, SCRIPT_BOT);
}, 120_000);

afterAll(async () => {
  await h?.stop();
  collector?.close();
});

it('trace a CDS call from the caller’s traceparent through the bot run and the EHR prefetch', async () => {
  const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const res = await h.invoke(
    serviceId,
    patientView({ fhirServer: h.ehr.fhirBase, fhirAuthorization: fhirAuthorization('patient/Patient.read') }),
    // A caller's W3C baggage is not Hookbot's to pass on to the EHR (or any other party it calls).
    { headers: { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`, baggage: 'injected=by-caller' } },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.headers.get('traceparent')).toMatch(new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-01$`));

  // The EHR got the trace context with the prefetch read.
  const prefetch = h.ehr.calls(`Patient/${PATIENT_A}`)[0];
  expect(prefetch?.traceparent).toMatch(new RegExp(`^00-${callerTrace}-[0-9a-f]{16}-0[01]$`));
  expect(prefetch?.baggage).toBeUndefined();

  // Spans are exported in batches as they end (the server span last, when the response closes): wait for all three.
  const names = () => spans.filter((s) => s.traceId === callerTrace).map((s) => s.name);
  await expect
    .poll(names, { timeout: 20_000 })
    .toEqual(expect.arrayContaining(['POST /cds-services/:id', 'bot.run', 'GET']));
  const trace = spans.filter((s) => s.traceId === callerTrace);
  const server = trace.find((s) => s.name === 'POST /cds-services/:id');
  expect(server, JSON.stringify(trace.map((s) => s.name))).toBeDefined();
  expect(server?.parentSpanId).toBe('00f067aa0ba902b7');
  const botRun = trace.find((s) => s.name === 'bot.run');
  const outbound = trace.find((s) => s.name === 'GET');
  expect(botRun).toBeDefined();
  expect(outbound?.attributes).toContainEqual({ key: 'server.address', value: { stringValue: '127.0.0.1' } });
  // The response's span id is the server span's.
  expect(res.headers.get('traceparent')).toBe(`00-${callerTrace}-${server?.spanId}-01`);
  // Nothing in any span names the patient: routes are patterns, outbound calls name their host only.
  expect(JSON.stringify(trace)).not.toContain(PATIENT_A);
});

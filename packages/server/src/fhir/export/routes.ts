/**
 * Bulk Data export routes under `/fhir/R4` (FHIR Bulk Data Access 2.0): the kick-off at system, Patient and Group
 * level (GET with query parameters, POST with a Parameters body), the status URL (poll; DELETE cancels) and the
 * NDJSON files. The status and file URLs belong to the project and client that started the job: anyone else,
 * another tenant included, gets the 404 of a job that does not exist.
 */
import type Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import type { Database } from '../../infra/database.js';
import { HookbotError, notFound } from '../../infra/errors.js';
import { createRouter } from '../../infra/router.js';
import { successOutcome } from '../../infra/error-middleware.js';
import { allowOnly } from '../routes.js';
import { bodyParams, exportSpec, preferences, queryParams, type ExportLevel } from './kickoff.js';
import { createJob, deleteJob, fileContent, findJob, jobFiles, type ExportJob } from './jobs.js';

export interface ExportRouteOptions {
  db: Database;
  maxJobsPerProject: number;
  /** Called when a job is queued (the instance's runner starts it at once). */
  queued(): void;
}

/** Seconds a client is asked to wait between polls. */
const RETRY_AFTER = '2';

const owner = (ctx: RouterContext) => ({
  projectId: ctx.state.repo.access.projectId,
  clientId: ctx.state.caller.clientId,
});

export function exportRouter(options: ExportRouteOptions): Router {
  const router = createRouter();
  const kickoff = (level: ExportLevel) => async (ctx: RouterContext) => {
    const { lenient } = preferences(ctx.get('Prefer'));
    const params =
      ctx.method === 'POST'
        ? bodyParams((ctx.request as { body?: unknown }).body)
        : queryParams(new URLSearchParams(ctx.querystring));
    const spec = await exportSpec(ctx.state.repo, level, params, lenient, ctx.params.id);
    const job = await createJob(
      options.db,
      {
        ...owner(ctx),
        requestUrl: `${ctx.state.repo.fhirBase}${ctx.path.slice('/fhir/R4'.length)}${ctx.search}`,
        spec,
      },
      options.maxJobsPerProject,
    );
    options.queued();
    ctx.status = 202;
    ctx.set('Content-Location', statusUrl(ctx, job));
    ctx.type = 'application/fhir+json';
    ctx.body = successOutcome(`Export ${job.id} queued: poll its Content-Location`, ctx.state.ids);
  };
  for (const [path, level] of [
    ['/$export', 'system'],
    ['/Patient/$export', 'patient'],
    ['/Group/:id/$export', 'group'],
  ] as const) {
    router.get(path, kickoff(level));
    router.post(path, kickoff(level));
    allowOnly(router, path, ['GET', 'POST']);
  }

  router.get('/$export-status/:job', async (ctx) => {
    const job = await callersJob(options.db, ctx);
    if (job.status === 'queued' || job.status === 'running') {
      const type = job.spec.types[job.cursor.typeIndex];
      ctx.status = 202;
      ctx.set(
        'X-Progress',
        `${job.exported} resources exported${type ? `; exporting ${type} (type ${job.cursor.typeIndex + 1} of ${job.spec.types.length})` : ''}`,
      );
      ctx.set('Retry-After', RETRY_AFTER);
      ctx.body = '';
      return;
    }
    if (job.status === 'failed') {
      throw new HookbotError('fhir.export-failed', `Export ${job.id}: ${job.error ?? 'failed'}`);
    }
    if (job.expiresAt) ctx.set('Expires', new Date(job.expiresAt).toUTCString());
    ctx.type = 'application/json';
    ctx.body = {
      transactionTime: job.transactionTime,
      request: job.requestUrl,
      requiresAccessToken: true,
      output: (await jobFiles(options.db, job)).map((f) => ({
        type: f.type,
        url: `${ctx.state.repo.fhirBase}/$export-file/${job.id}/${f.fileNo}`,
        count: f.count,
      })),
      error: [],
    };
  });
  router.delete('/$export-status/:job', async (ctx) => {
    if (!(await deleteJob(options.db, owner(ctx), ctx.params.job ?? ''))) throw jobNotFound();
    ctx.status = 202;
    ctx.type = 'application/fhir+json';
    ctx.body = successOutcome('Export cancelled and its files removed', ctx.state.ids);
  });
  allowOnly(router, '/$export-status/:job', ['GET', 'DELETE']);

  router.get('/$export-file/:job/:file', async (ctx) => {
    const job = await callersJob(options.db, ctx);
    const fileNo = /^\d{1,9}$/.test(ctx.params.file ?? '') ? Number(ctx.params.file) : undefined;
    const content = fileNo === undefined ? undefined : await fileContent(options.db, job, fileNo);
    if (content === undefined) throw notFound('fhir.not-found', 'No such export file');
    ctx.type = 'application/fhir+ndjson';
    ctx.body = content;
  });
  allowOnly(router, '/$export-file/:job/:file', ['GET']);
  return router;
}

const jobNotFound = () => notFound('fhir.not-found', 'No such export job (it may have expired or been cancelled)');

async function callersJob(db: Database, ctx: RouterContext): Promise<ExportJob> {
  const job = await findJob(db, owner(ctx), ctx.params.job ?? '');
  if (!job) throw jobNotFound();
  return job;
}

function statusUrl(ctx: RouterContext, job: ExportJob): string {
  return `${ctx.state.repo.fhirBase}/$export-status/${job.id}`;
}

/**
 * The SMART standalone launch as a member sees it: `GET` (or `POST`) `/oauth2/authorize` checks the app's request
 * and shows the sign-in page, or the consent page to a signed-in member; the pages post to
 * `/oauth2/authorize/{sign-in,sign-up,consent}`; approving sends the browser back to the app with a code. And
 * `GET /oauth2/userinfo`, for a member app's access token.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AuthorizeError, checkAuthorizeRequest, withQuery, type AuthorizeRequest } from '../auth/authorize-request.js';
import { CODE_TTL_SECONDS, createGrant } from '../auth/member-grants.js';
import { delayFailure, failedTooOften, type FailureKeys } from '../auth/token-failures.js';
import { forbidden, HookbotError } from '../infra/errors.js';
import { createRouter, publicRoute } from '../infra/router.js';
import type { Services } from '../services.js';
import { isEmail, normalEmail } from '../auth/passwords.js';
import { accountOfPatient, createAccount, isoDate, matchMember, signIn, type Account } from './accounts.js';
import {
  csrfMatches,
  csrfToken,
  endSession,
  sessionAccount,
  startSession,
  type BrowserDeps,
} from './browser-session.js';
import {
  consentPage,
  contentSecurityPolicy,
  errorPage,
  signInPage,
  signUpPage,
  type FormContext,
  type SignUpValues,
} from './pages.js';

/**
 * Failures (within token-failures.ts's window of 15 minutes) after which an account, a member id being guessed at,
 * or an address is refused outright; before that, each failure beyond the first few waits longer.
 */
const REFUSE_AFTER = { client: 8, address: 50 };
const PASSWORD_LENGTH = { min: 10, max: 128 };

type Form = Record<string, unknown>;
const text = (form: Form, name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');

export function memberLoginRouter(services: Services): Router {
  const { config, db, shared } = services;
  const router = createRouter();
  const fhirBase = `${config.baseUrl}/fhir/R4`;
  const browser: BrowserDeps = { key: services.key, issuer: config.baseUrl, development: config.development };

  const html = (ctx: Context, status: number, page: string, formTargets?: string[]) => {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page;
    ctx.set('Content-Security-Policy', contentSecurityPolicy(formTargets));
    ctx.set('Cache-Control', 'no-store');
  };
  const seeOther = (ctx: Context, location: string) => {
    ctx.status = 303;
    ctx.redirect(location);
    ctx.set('Cache-Control', 'no-store');
  };
  const backToAuthorize = (ctx: Context, req: AuthorizeRequest) =>
    seeOther(ctx, `/oauth2/authorize?${new URLSearchParams(req.params).toString()}`);

  /** The checked request; or undefined once the error is answered: the app's redirect URI, or a page. */
  async function authorizeRequest(ctx: Context, input: Form): Promise<AuthorizeRequest | undefined> {
    try {
      return await checkAuthorizeRequest(input, { db, fhirBase });
    } catch (err) {
      if (!(err instanceof AuthorizeError)) throw err;
      const location = err.location;
      if (location) ctx.redirect(location);
      else
        html(
          ctx,
          400,
          errorPage(
            'This app cannot sign you in',
            `${err.description}. Tell the app's developer; you were not sent anywhere.`,
          ),
        );
      return undefined;
    }
  }

  const formContext = (ctx: Context, req: AuthorizeRequest): FormContext => ({
    csrf: csrfToken(ctx, browser),
    params: req.params,
    appName: req.client.name,
  });
  const projectOf = (req: AuthorizeRequest) => req.client.projectId as string;

  const show = async (ctx: Context, input: Form) => {
    const req = await authorizeRequest(ctx, input);
    if (!req) return;
    const account = await sessionAccount(ctx, browser, projectOf(req));
    // Approving posts to this server, which redirects to the app: CSP's form-action covers that redirect.
    if (account) html(ctx, 200, consentPage(formContext(ctx, req), req.scope), [new URL(req.redirectUri).origin]);
    else html(ctx, 200, signInPage(formContext(ctx, req)));
  };
  router.get('/oauth2/authorize', publicRoute, (ctx) => show(ctx, ctx.query));
  // SMART `authorize-post`: the same request as a form.
  router.post('/oauth2/authorize', publicRoute, async (ctx) => {
    await services.limits.tokenRequest(ctx.ip);
    await show(ctx, (ctx.request.body ?? {}) as Form);
  });
  router.get('/oauth2/authorize/sign-up', publicRoute, async (ctx) => {
    const req = await authorizeRequest(ctx, ctx.query);
    if (req) html(ctx, 200, signUpPage(formContext(ctx, req)));
  });

  /** A page's form: within the address's budget, with its CSRF token, for a request that still checks out. */
  const formPost = (path: string, handler: (ctx: Context, form: Form, req: AuthorizeRequest) => Promise<void>) =>
    router.post(path, publicRoute, async (ctx) => {
      await services.limits.tokenRequest(ctx.ip);
      const form = (ctx.request.body ?? {}) as Form;
      if (!csrfMatches(ctx, form)) {
        html(ctx, 403, errorPage('Please start again', 'This form has expired or was not sent from this site.'));
        return;
      }
      const req = await authorizeRequest(ctx, form);
      if (req) await handler(ctx, form, req);
    });

  /** Refuses (429) once `who` failed too often; else runs `attempt`, and on its failure waits before answering. */
  const guarded = async (
    ctx: Context,
    who: FailureKeys,
    refuse: () => void,
    attempt: () => Promise<boolean>,
  ): Promise<void> => {
    if (await failedTooOften(shared, who, REFUSE_AFTER)) {
      ctx.set('Retry-After', '900');
      refuse();
      return;
    }
    if (!(await attempt())) await delayFailure(shared, who);
  };

  formPost('/oauth2/authorize/sign-in', async (ctx, form, req) => {
    const email = text(form, 'email');
    const page = (status: number, message: string) =>
      html(ctx, status, signInPage(formContext(ctx, req), message, email));
    const who = { clientId: `member:${projectOf(req)}:${normalEmail(email)}`, address: ctx.ip };
    await guarded(
      ctx,
      who,
      () => page(429, 'Too many attempts to sign in. Wait 15 minutes, then try again.'),
      async () => {
        const account = await signIn(db, projectOf(req), email, text(form, 'password'));
        if (!account) page(401, 'That email and password do not match an account.');
        else await signedIn(ctx, req, account);
        return account !== undefined;
      },
    );
  });

  formPost('/oauth2/authorize/sign-up', async (ctx, form, req) => {
    const values: SignUpValues = Object.fromEntries(
      (['first_name', 'last_name', 'birth_date', 'member_id', 'postal_code', 'email'] as const).map((n) => [
        n,
        text(form, n).trim(),
      ]),
    );
    const password = text(form, 'password');
    const page = (status: number, message: string) =>
      html(ctx, status, signUpPage(formContext(ctx, req), message, values));
    const problem = !Object.values(values).every(Boolean)
      ? 'Fill in every field.'
      : !isoDate(values.birth_date ?? '')
        ? 'Enter the birth date as on your card (MM/DD/YYYY).'
        : !isEmail(values.email ?? '')
          ? 'Enter a valid email.'
          : password.length < PASSWORD_LENGTH.min || password.length > PASSWORD_LENGTH.max
            ? `Choose a password of ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters.`
            : undefined;
    if (problem) return page(400, problem);
    const projectId = projectOf(req);
    // Guessing is counted per member id (someone trying facts for one member) and per address.
    const who = { clientId: `member-id:${projectId}:${values.member_id}`, address: ctx.ip };
    await guarded(
      ctx,
      who,
      () => page(429, 'Too many attempts. Wait 15 minutes, then try again.'),
      async () => {
        const patientId = await matchMember(db, projectId, {
          firstName: values.first_name as string,
          lastName: values.last_name as string,
          birthDate: values.birth_date as string,
          memberId: values.member_id as string,
          postalCode: values.postal_code as string,
        });
        if (!patientId) {
          page(400, 'These details do not match a member with active coverage. Check them against your member card.');
          return false;
        }
        const account = await createAccount(db, projectId, patientId, values.email as string, password);
        if (account === 'member-has-account')
          page(409, 'You already have an account. Sign in with the email you chose then.');
        else if (account === 'email-taken') page(409, 'This email is used by another member. Choose another email.');
        else await signedIn(ctx, req, account);
        return true;
      },
    );
  });

  const signedIn = async (ctx: Context, req: AuthorizeRequest, account: Account) => {
    await startSession(ctx, browser, account);
    backToAuthorize(ctx, req);
  };

  formPost('/oauth2/authorize/consent', async (ctx, form, req) => {
    const account = await sessionAccount(ctx, browser, projectOf(req));
    if (!account) return html(ctx, 401, signInPage(formContext(ctx, req), 'Your session has ended: sign in again.'));
    const state: Record<string, string> = req.state !== undefined ? { state: req.state } : {};
    if (form.decision !== 'approve') {
      return seeOther(
        ctx,
        withQuery(req.redirectUri, { error: 'access_denied', error_description: 'Denied', ...state }),
      );
    }
    const code = await createGrant(db, 'code', {
      clientId: req.client.id,
      projectId: account.projectId,
      accountId: account.id,
      patientId: account.patientId,
      scope: req.scope,
      redirectUri: req.redirectUri,
      codeChallenge: req.codeChallenge,
      ...(req.nonce ? { nonce: req.nonce } : {}),
      expiresAt: new Date(Date.now() + CODE_TTL_SECONDS * 1000),
    });
    seeOther(ctx, withQuery(req.redirectUri, { code, ...state }));
  });

  // On a shared device: the next person signs in as themselves.
  formPost('/oauth2/authorize/sign-out', async (ctx, _form, req) => {
    endSession(ctx, browser);
    backToAuthorize(ctx, req);
  });

  // OpenID Connect Core §5.3, for a member app's access token granted `openid`.
  router.get('/oauth2/userinfo', async (ctx) => {
    const caller = ctx.state.caller;
    if (caller.role !== 'member-app' || !caller.patient || !caller.projectId || !caller.scopes.other.includes('openid'))
      throw new HookbotError('auth.forbidden-scope', 'userinfo needs a member token granted "openid"', {
        headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="openid"' },
      });
    const sub = await accountOfPatient(db, caller.projectId, caller.patient);
    if (!sub) throw forbidden('auth.forbidden-scope', "The member's account no longer exists");
    ctx.body = { sub, fhirUser: `${fhirBase}/Patient/${caller.patient}` };
    ctx.set('Cache-Control', 'no-store');
  });

  return router;
}

/**
 * The member's pages, rendered on the server: sign in, create an account, approve an app, and errors. No script,
 * no external asset; one inline stylesheet allowed by its hash. Every form carries the CSRF token and the
 * authorization request it belongs to. Written for screen readers, keyboards and phones: labelled fields with
 * `autocomplete`, one `h1` in a `main`, errors announced (`role="alert"`), large targets, contrast above 7:1.
 */
import { createHash } from 'node:crypto';
import { parseScope } from '../auth/scopes.js';

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:1.05rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#f4f5f7}
main{max-width:34rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem}
.card{background:#fff;border:1px solid #c9ccd1;border-radius:.5rem;padding:1.25rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{width:100%;font:inherit;padding:.6rem .7rem;border:2px solid #555;border-radius:.35rem;background:#fff;color:#111}
input:focus,button:focus,a:focus{outline:3px solid #0b57d0;outline-offset:2px}
.hint{margin:.25rem 0 0;color:#333;font-size:.95rem}
button{font:inherit;font-weight:600;min-height:2.9rem;padding:.6rem 1.2rem;border-radius:.35rem;border:2px solid #0b3d91;background:#0b3d91;color:#fff;cursor:pointer;margin:1.25rem .5rem 0 0}
button.secondary{background:#fff;color:#0b3d91}
a{color:#0b3d91}
.alert{border-left:.3rem solid #a4000f;background:#fdecee;padding:.75rem 1rem;margin:0 0 1rem;color:#5c0009}
ul.scopes{padding-left:1.25rem}
ul.scopes li{margin:.4rem 0}
`;
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/** The page's Content-Security-Policy: nothing but its stylesheet, never framed, forms posted to `formTargets`. */
export function contentSecurityPolicy(formTargets: string[] = []): string {
  return [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    `form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

const alert = (message?: string) =>
  message ? `<div class="alert" role="alert" id="form-error">${escapeHtml(message)}</div>` : '';

/** What every form carries: the CSRF token and the authorization request's parameters. */
export interface FormContext {
  csrf: string;
  params: Record<string, string>;
  appName: string;
}

function hidden(ctx: FormContext): string {
  return [['csrf', ctx.csrf] as const, ...Object.entries(ctx.params)]
    .map(([n, v]) => `<input type="hidden" name="${escapeHtml(n)}" value="${escapeHtml(v)}">`)
    .join('');
}

function field(
  name: string,
  label: string,
  options: { type?: string; autocomplete: string; value?: string; hint?: string; extra?: string; error?: boolean },
): string {
  const hintId = options.hint ? `${name}-hint` : '';
  const described = [hintId, options.error ? 'form-error' : ''].filter(Boolean).join(' ');
  return `<label for="${name}">${escapeHtml(label)}</label>
<input id="${name}" name="${name}" type="${options.type ?? 'text'}" autocomplete="${options.autocomplete}" required${
    options.value ? ` value="${escapeHtml(options.value)}"` : ''
  }${described ? ` aria-describedby="${described}"` : ''}${options.extra ?? ''}>${
    options.hint ? `<p class="hint" id="${hintId}">${escapeHtml(options.hint)}</p>` : ''
  }`;
}

const query = (params: Record<string, string>) => new URLSearchParams(params).toString();

export function signInPage(ctx: FormContext, error?: string, email = ''): string {
  return layout(
    'Sign in to your health plan',
    `<div class="card">${alert(error)}
<p><strong>${escapeHtml(ctx.appName)}</strong> asks to see your health plan records. Sign in to choose what it may see.</p>
<form method="post" action="/oauth2/authorize/sign-in">${hidden(ctx)}
${field('email', 'Email', { type: 'email', autocomplete: 'email', value: email, error: !!error })}
${field('password', 'Password', { type: 'password', autocomplete: 'current-password', error: !!error })}
<button type="submit">Sign in</button></form>
<p>New here? <a href="/oauth2/authorize/sign-up?${escapeHtml(query(ctx.params))}">Create an account</a> with your member card.</p></div>`,
  );
}

export interface SignUpValues {
  first_name?: string;
  last_name?: string;
  birth_date?: string;
  member_id?: string;
  postal_code?: string;
  email?: string;
}

export function signUpPage(ctx: FormContext, error?: string, values: SignUpValues = {}): string {
  const e = !!error;
  return layout(
    'Create your account',
    `<div class="card">${alert(error)}
<p>Tell us who you are, exactly as on your member card and in your plan's records.</p>
<form method="post" action="/oauth2/authorize/sign-up">${hidden(ctx)}
${field('first_name', 'First name', { autocomplete: 'given-name', value: values.first_name, error: e })}
${field('last_name', 'Last name', { autocomplete: 'family-name', value: values.last_name, error: e })}
${field('birth_date', 'Birth date', { type: 'date', autocomplete: 'bday', value: values.birth_date, error: e })}
${field('member_id', 'Member ID', { autocomplete: 'off', value: values.member_id, hint: 'As printed on your member card.', error: e })}
${field('postal_code', 'Postal code', { autocomplete: 'postal-code', value: values.postal_code, error: e, extra: ' inputmode="numeric"' })}
${field('email', 'Email', { type: 'email', autocomplete: 'email', value: values.email, hint: 'You will sign in with it. One email per member.', error: e })}
${field('password', 'Password', { type: 'password', autocomplete: 'new-password', hint: 'At least 10 characters.', error: e, extra: ' minlength="10" maxlength="128"' })}
<button type="submit">Create account</button></form>
<p>Already have an account? <a href="/oauth2/authorize?${escapeHtml(query(ctx.params))}">Sign in</a>.</p></div>`,
  );
}

const RESOURCE_WORDS: Record<string, string> = {
  Patient: 'your name, birth date and contact details',
  Coverage: 'your insurance coverage',
  ExplanationOfBenefit: 'your claims and what your plan paid for them',
  Claim: 'your claims',
  ClaimResponse: "your plan's answers to your claims",
  Organization: 'the organizations named in your records',
  Practitioner: 'the doctors and other providers named in your records',
};

/** The scope in plain words. */
function describeScope(raw: string): string | undefined {
  const scope = parseScope(raw);
  if (scope) {
    if (scope.resourceType === '*')
      return 'All your health plan records: your details, coverage, claims and what your plan paid, and the providers named in them';
    return RESOURCE_WORDS[scope.resourceType] ?? `your ${scope.resourceType} records`;
  }
  if (raw === 'openid' || raw === 'fhirUser') return 'Who you are: that you are the member who signed in';
  if (raw === 'offline_access') return 'Keep access while you are not using the app, for up to 90 days';
  return undefined;
}

export function consentPage(ctx: FormContext, scope: string): string {
  // The records first, then who the member is and for how long.
  const ordered = scope.split(' ').sort((a, b) => Number(!parseScope(a)) - Number(!parseScope(b)));
  const items = [...new Set(ordered.map(describeScope).filter((w): w is string => !!w))];
  return layout(
    `Allow ${ctx.appName} to see your records?`,
    `<div class="card">
<p><strong>${escapeHtml(ctx.appName)}</strong> will be able to see:</p>
<ul class="scopes">${items.map((w) => `<li>${escapeHtml(w[0]?.toUpperCase() + w.slice(1))}</li>`).join('')}</ul>
<p>It can only read your records: it cannot change anything. No one else's records are shared.</p>
<form method="post" action="/oauth2/authorize/consent">${hidden(ctx)}
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button></form>
<form method="post" action="/oauth2/authorize/sign-out">${hidden(ctx)}
<p>Not you? <button type="submit" class="secondary">Sign out</button></p></form></div>`,
  );
}

export function errorPage(title: string, message: string): string {
  return layout(title, `<div class="card"><p role="alert">${escapeHtml(message)}</p></div>`);
}

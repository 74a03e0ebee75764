/**
 * Every error Hookbot answers, by its stable code: the HTTP status and the FHIR issue type it is sent with. The
 * code travels beside the FHIR code in each issue's `details.coding` (system `ERROR_CODE_SYSTEM`); the table in
 * `infra/README.md` lists the same codes (`error-catalogue.test.ts` keeps both equal).
 */

export const ERROR_CODE_SYSTEM = 'https://hookbot.dev/fhir/CodeSystem/error';

/** OperationOutcome.issue.code values used by Hookbot (FHIR R4 IssueType). */
export type IssueType =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'not-found'
  | 'not-supported'
  | 'conflict'
  | 'duplicate'
  | 'multiple-matches'
  | 'too-costly'
  | 'business-rule'
  | 'processing'
  | 'exception'
  | 'timeout'
  | 'throttled'
  | 'transient'
  | 'incomplete';

export const ERROR_CODES = {
  'request.invalid': [400, 'invalid'],
  'request.unstorable': [400, 'invalid'],
  'request.malformed-json': [400, 'structure'],
  'request.malformed-body': [400, 'structure'],
  'request.malformed-http': [400, 'structure'],
  'request.method-not-allowed': [405, 'not-supported'],
  'request.method-not-implemented': [501, 'not-supported'],
  'request.not-acceptable': [406, 'not-supported'],
  'request.timeout': [408, 'timeout'],
  'request.body-too-large': [413, 'too-costly'],
  'request.unsupported-media-type': [415, 'not-supported'],
  'request.unprocessable': [422, 'business-rule'],
  'request.rate-limited': [429, 'throttled'],
  'request.headers-too-large': [431, 'too-costly'],
  'route.not-found': [404, 'not-found'],
  'server.internal': [500, 'exception'],
  'server.unavailable': [503, 'transient'],
  'auth.missing-token': [401, 'login'],
  'auth.invalid-token': [401, 'login'],
  'auth.expired-token': [401, 'login'],
  'auth.token-without-role': [401, 'login'],
  'auth.revoked-token': [401, 'login'],
  'auth.certificate-mismatch': [401, 'login'],
  'auth.invalid-client-jwt': [401, 'login'],
  'auth.expired-client-jwt': [401, 'login'],
  'auth.replayed-client-jwt': [401, 'login'],
  'auth.admin-only': [403, 'forbidden'],
  'auth.no-project': [403, 'forbidden'],
  'auth.no-patient': [403, 'forbidden'],
  'auth.member-read-only': [403, 'forbidden'],
  'auth.other-project': [403, 'forbidden'],
  'auth.role-not-allowed': [403, 'forbidden'],
  'auth.forbidden-scope': [403, 'forbidden'],
  'auth.invalid-session': [401, 'login'],
  'auth.no-session': [401, 'login'],
  'auth.sign-in-failed': [401, 'login'],
  'auth.csrf-required': [403, 'forbidden'],
  'auth.user-role-not-allowed': [403, 'forbidden'],
  'oauth.invalid-request': [400, 'invalid'],
  'oauth.unsupported-media-type': [400, 'not-supported'],
  'oauth.invalid-client': [401, 'login'],
  'oauth.invalid-grant': [400, 'invalid'],
  'oauth.unauthorized-client': [400, 'forbidden'],
  'oauth.unsupported-grant-type': [400, 'invalid'],
  'oauth.invalid-scope': [400, 'invalid'],
  'fhir.invalid-resource': [400, 'invalid'],
  'fhir.unsupported-type': [400, 'invalid'],
  'fhir.invalid-id': [400, 'invalid'],
  'fhir.missing-id': [400, 'required'],
  'fhir.invalid-search': [400, 'invalid'],
  'fhir.search-too-costly': [400, 'too-costly'],
  'fhir.reserved-tag': [403, 'forbidden'],
  'fhir.not-found': [404, 'not-found'],
  'fhir.append-only': [405, 'not-supported'],
  'fhir.conflict': [409, 'conflict'],
  'fhir.deleted': [410, 'not-found'],
  'fhir.precondition-failed': [412, 'conflict'],
  'fhir.unresolved-reference': [400, 'not-found'],
  'fhir.bundle-too-large': [413, 'too-costly'],
  'fhir.invalid-patch': [400, 'invalid'],
  'fhir.unsupported-condition': [400, 'not-supported'],
  'fhir.invalid-export': [400, 'invalid'],
  'fhir.export-limit': [429, 'throttled'],
  'fhir.export-failed': [500, 'exception'],
  'admin.invalid-request': [400, 'invalid'],
  'admin.project-not-found': [404, 'not-found'],
  'admin.client-not-found': [404, 'not-found'],
  'admin.project-exists': [409, 'conflict'],
  'admin.secrets-unreadable': [500, 'exception'],
  'user.invalid-request': [400, 'invalid'],
  'user.invalid-invitation': [400, 'invalid'],
  'user.not-found': [404, 'not-found'],
  'user.email-taken': [409, 'duplicate'],
  'bot.invalid-request': [400, 'invalid'],
  'bot.rule-sets-only': [403, 'forbidden'],
  'bot.does-not-compile': [400, 'invalid'],
  'bot.ambiguous-identifier': [400, 'multiple-matches'],
  'bot.code-too-large': [413, 'too-costly'],
  'bot.no-code': [422, 'business-rule'],
  'bot.rule-set-unbuildable': [422, 'business-rule'],
  'bot.failed': [500, 'exception'],
  'bot.invalid-result': [500, 'exception'],
  'bot.result-too-large': [500, 'too-costly'],
  'bot.memory-exceeded': [500, 'too-costly'],
  'bot.stored-code-does-not-compile': [500, 'exception'],
  'bot.timeout': [504, 'timeout'],
  'bot.runtime-busy': [503, 'throttled'],
  'bot.runtime-failure': [500, 'exception'],
  'bot.invalid-client-call': [400, 'invalid'],
  'bot.unknown-client-method': [400, 'not-supported'],
  'bot.client-method-not-allowed': [403, 'forbidden'],
  'bot.execute-limit': [400, 'too-costly'],
  'bot.invocation-finished': [409, 'conflict'],
  'rules.invalid-rule-set': [400, 'invalid'],
  'rules.invalid-fact': [400, 'invalid'],
  'rules.not-a-rule-set': [422, 'business-rule'],
  'cds.invalid-request': [400, 'invalid'],
  'cds.invalid-feedback': [400, 'invalid'],
  'cds.service-not-found': [404, 'not-found'],
  'cds.prefetch-unavailable': [412, 'incomplete'],
  'cds.invalid-response': [500, 'invariant'],
  'ehr.invalid-request': [400, 'invalid'],
  'ehr.scope-not-granted': [403, 'forbidden'],
  'ehr.not-found': [404, 'not-found'],
  'ehr.unreachable': [502, 'exception'],
  'ehr.error': [502, 'exception'],
  'ehr.unexpected-response': [502, 'exception'],
  'pas.invalid-request': [400, 'invalid'],
  'pas.invalid-attachment': [400, 'invalid'],
  'pas.invalid-decision': [400, 'invalid'],
  'pas.own-request': [403, 'forbidden'],
  'pas.claim-response-read-only': [405, 'not-supported'],
  'pas.authorization-not-found': [404, 'not-found'],
  'pas.still-deciding': [409, 'conflict'],
  'pas.member-not-found': [422, 'not-found'],
  'pas.member-not-covered': [422, 'business-rule'],
  'pas.prior-request-not-found': [422, 'not-found'],
  'pas.not-updatable': [422, 'business-rule'],
  'pas.stored-request-unreadable': [500, 'exception'],
  'subscription.invalid': [400, 'invalid'],
  'subscription.not-found': [404, 'not-found'],
  'subscription.limit-reached': [422, 'business-rule'],
  'delivery.invalid-callback': [400, 'invalid'],
  'outbound.blocked-url': [400, 'security'],
  'outbound.response-too-large': [502, 'too-costly'],
} as const satisfies Record<string, readonly [number, IssueType]>;

/** A stable Hookbot error code: `domain.what-went-wrong`. */
export type ErrorCode = keyof typeof ERROR_CODES;

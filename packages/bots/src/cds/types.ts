/**
 * CDS Hooks 2.0 wire types (https://cds-hooks.hl7.org/2.0/) and the Hookbot `Bot.cdsService` shape.
 *
 * `Bot.cdsService` is typed only in @medplum/fhirtypes 5 (Node 22+), so the same shape is declared here over
 * 4.5's `Bot`.
 */
import type { Bot, Bundle, Coding, Resource } from '@medplum/fhirtypes';

export const KNOWN_HOOKS = [
  'patient-view',
  'order-select',
  'order-sign',
  'order-dispatch',
  'appointment-book',
  'encounter-start',
  'encounter-discharge',
] as const;
export type KnownHook = (typeof KNOWN_HOOKS)[number];

export interface CdsPrefetchTemplate {
  key: string;
  query: string;
}

/** The `cdsService` element Hookbot stores on a FHIR Bot (same shape as @medplum/fhirtypes 5). */
export interface BotCdsService {
  hook: string;
  title: string;
  description: string;
  usageRequirements?: string;
  prefetch?: CdsPrefetchTemplate[];
  /** Hookbot extension: the service answers as a Da Vinci CRD service (CRD response rules apply). */
  crd?: boolean;
}

export type CdsBot = Bot & { cdsService?: BotCdsService };

/** One entry of the discovery response (CDS Hooks §Discovery). */
export interface CdsServiceDescription {
  hook: string;
  title?: string;
  description: string;
  id: string;
  prefetch?: Record<string, string>;
  usageRequirements?: string;
}

export interface FhirAuthorization {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  subject: string;
  patient?: string;
}

export interface CdsRequest {
  hook: string;
  hookInstance: string;
  fhirServer?: string;
  fhirAuthorization?: FhirAuthorization;
  context: Record<string, unknown>;
  prefetch?: Record<string, Resource | Bundle | null>;
}

export interface CdsSource {
  label: string;
  url?: string;
  icon?: string;
  topic?: Coding;
}

export interface CdsAction {
  type: 'create' | 'update' | 'delete';
  description: string;
  resource?: Resource;
  resourceId?: string;
  extension?: Record<string, unknown>;
}

export interface CdsSuggestion {
  label: string;
  uuid?: string;
  isRecommended?: boolean;
  actions?: CdsAction[];
  extension?: Record<string, unknown>;
}

export interface CdsLink {
  label: string;
  url: string;
  type: 'absolute' | 'smart';
  appContext?: string;
  /** Post-2.0 (CDS Hooks CI, Epic since Aug 2023). */
  autolaunchable?: boolean;
  extension?: Record<string, unknown>;
}

export interface CdsCard {
  uuid?: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: CdsSource;
  suggestions?: CdsSuggestion[];
  selectionBehavior?: 'at-most-one' | 'any';
  overrideReasons?: Coding[];
  links?: CdsLink[];
  extension?: Record<string, unknown>;
}

export interface CdsResponse {
  cards: CdsCard[];
  systemActions?: CdsAction[];
  extension?: Record<string, unknown>;
}

export interface CdsFeedbackItem {
  card: string;
  outcome: 'accepted' | 'overridden';
  acceptedSuggestions?: { id: string }[];
  overrideReason?: { reason?: Coding; userComment?: string };
  outcomeTimestamp: string;
}

export interface CdsFeedback {
  feedback: CdsFeedbackItem[];
}

/**
 * Member accounts: created by proving who one is (five facts matching one Patient with an active Coverage in the
 * app's project), each linked to one member and one email (seed 001), signed in to with a password stored as a slow
 * scrypt hash. A mismatch says neither which fact was wrong nor whether the member exists.
 */
import { randomUUID } from 'node:crypto';
import type { HumanName, Patient } from '@medplum/fhirtypes';
import { hashPassword, normalEmail, verifyPassword } from '../auth/passwords.js';
import type { Database } from '../infra/database.js';
import { findMember } from '../pas/member.js';

export interface MemberFacts {
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD, or MM/DD/YYYY as printed on cards. */
  birthDate: string;
  memberId: string;
  postalCode: string;
}

const same = (a: string | undefined, b: string) =>
  a !== undefined && a.normalize('NFKC').trim().toLowerCase() === b.normalize('NFKC').trim().toLowerCase();

/** A birth date as FHIR writes it (YYYY-MM-DD), from either spelling; undefined when it is neither. */
export function isoDate(input: string): string | undefined {
  const text = input.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return text;
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  return us ? `${us[3]}-${us[1]?.padStart(2, '0')}-${us[2]?.padStart(2, '0')}` : undefined;
}

/** US ZIP+4 matches its ZIP; spaces and case do not count. */
const postal = (code: string) => code.replace(/[\s-]/g, '').toUpperCase().slice(0, 5);

function matchesPatient(patient: Patient, facts: MemberFacts): boolean {
  const names: HumanName[] = patient.name ?? [];
  const named = names.some(
    (n) => same(n.family, facts.lastName) && (n.given ?? []).some((g) => same(g, facts.firstName)),
  );
  const postalCode = postal(facts.postalCode);
  return (
    named &&
    patient.birthDate === isoDate(facts.birthDate) &&
    postalCode.length > 0 &&
    (patient.address ?? []).some((a) => a.postalCode !== undefined && postal(a.postalCode) === postalCode)
  );
}

/** The Patient id of the member the facts describe, in `projectId`, with an active Coverage; else undefined. */
export async function matchMember(db: Database, projectId: string, facts: MemberFacts): Promise<string | undefined> {
  const memberId = facts.memberId.trim();
  if (!memberId || memberId.length > 64) return undefined;
  const member = await findMember(db, projectId, memberId);
  if (!member?.patient || member.coverage.status !== 'active') return undefined;
  return matchesPatient(member.patient, facts) ? member.patientId : undefined;
}

export interface Account {
  id: string;
  projectId: string;
  patientId: string;
}

/** Creates the member's account, unless the member already has one or the email belongs to another member. */
export async function createAccount(
  db: Database,
  projectId: string,
  patientId: string,
  email: string,
  password: string,
): Promise<Account | 'member-has-account' | 'email-taken'> {
  const passwordHash = await hashPassword(password);
  const id = randomUUID();
  const inserted = await db.query<{ id: string }>(
    `INSERT INTO member_accounts (id, project_id, patient_id, email, password_hash) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING RETURNING id`,
    [id, projectId, patientId, normalEmail(email), passwordHash],
  );
  if (inserted.rows.length) return { id, projectId, patientId };
  const existing = await db.query('SELECT 1 FROM member_accounts WHERE project_id = $1 AND patient_id = $2', [
    projectId,
    patientId,
  ]);
  return existing.rows.length ? 'member-has-account' : 'email-taken';
}

/** The account of `email` when `password` is its password. The same scrypt work whether the email is known or not. */
export async function signIn(
  db: Database,
  projectId: string,
  email: string,
  password: string,
): Promise<Account | undefined> {
  const row = (
    await db.query<{ id: string; patient_id: string; password_hash: string }>(
      'SELECT id, patient_id, password_hash FROM member_accounts WHERE project_id = $1 AND email = $2',
      [projectId, normalEmail(email)],
    )
  ).rows[0];
  const matches = await verifyPassword(password, row?.password_hash);
  return row && matches ? { id: row.id, projectId, patientId: row.patient_id } : undefined;
}

/** The account of a member, by Patient (userinfo). */
export async function accountOfPatient(db: Database, projectId: string, patientId: string) {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM member_accounts WHERE project_id = $1 AND patient_id = $2',
    [projectId, patientId],
  );
  return rows[0]?.id;
}

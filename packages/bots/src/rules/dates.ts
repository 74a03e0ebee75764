/**
 * FHIR date and dateTime comparison with time zones. A dateTime keeps the calendar date it was written in (its own
 * offset) so that `2025-12-31T23:30:00-06:00` is on 31 December although it is 1 January in UTC; two values with
 * times compare as instants. `today` is the calendar date in the rule set's time zone.
 */
export interface FhirDate {
  /** Days since 1970-01-01 of the calendar date as written. */
  day: number;
  /** Epoch milliseconds when a time is present. */
  instant?: number;
}

const DATE_TIME_SHAPE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

export function parseFhirDate(value: unknown): FhirDate | undefined {
  if (typeof value !== 'string' || value.length > 35) return undefined;
  const m = DATE_TIME_SHAPE.exec(value);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2] ?? '1');
  const dayOfMonth = Number(m[3] ?? '1');
  if (month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > 31) return undefined;
  const day = Math.floor(Date.UTC(year, month - 1, dayOfMonth) / 86_400_000);
  if (m[4] === undefined) return { day };
  const local = Date.UTC(year, month - 1, dayOfMonth, Number(m[4]), Number(m[5]), Number(m[6] ?? '0'));
  const zone = m[7] ?? 'Z';
  const offsetMinutes =
    zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return { day, instant: local - offsetMinutes * 60_000 };
}

/** The calendar day of `now` in `timeZone` (IANA name, or UTC when unknown or Intl is missing). */
export function todayIn(now: Date, timeZone: string | undefined): number {
  const utcDay = Math.floor(now.getTime() / 86_400_000);
  if (!timeZone || timeZone === 'UTC' || typeof Intl === 'undefined') return utcDay;
  try {
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
      .formatToParts(now)
      .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
    return Math.floor(Date.UTC(Number(parts['year']), Number(parts['month']) - 1, Number(parts['day'])) / 86_400_000);
  } catch {
    return utcDay;
  }
}

export interface DateEnv {
  now: Date;
  timeZone?: string;
}

/** `today`, `now`, or a FHIR date/dateTime literal. */
export function resolveReference(value: unknown, env: DateEnv): FhirDate | undefined {
  if (value === 'today' || value === undefined) return { day: todayIn(env.now, env.timeZone) };
  if (value === 'now') return { day: todayIn(env.now, env.timeZone), instant: env.now.getTime() };
  return parseFhirDate(value);
}

/** Negative when a is earlier. Calendar days unless both sides carry a time. */
export function compareDates(a: FhirDate, b: FhirDate): number {
  if (a.instant !== undefined && b.instant !== undefined) return a.instant - b.instant;
  return a.day - b.day;
}

export function addToDay(
  day: number,
  amount: { days?: number; months?: number; years?: number },
  sign: 1 | -1,
): number {
  const d = new Date(day * 86_400_000);
  const months = sign * ((amount.years ?? 0) * 12 + (amount.months ?? 0));
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return Math.floor(target.getTime() / 86_400_000) + sign * (amount.days ?? 0);
}

/** Whole years between a birth date and a day. */
export function ageInYears(birth: FhirDate, atDay: number): number {
  const b = new Date(birth.day * 86_400_000);
  const a = new Date(atDay * 86_400_000);
  let years = a.getUTCFullYear() - b.getUTCFullYear();
  if (a.getUTCMonth() < b.getUTCMonth() || (a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() < b.getUTCDate())) {
    years--;
  }
  return years;
}

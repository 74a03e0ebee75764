/**
 * FHIR date, dateTime and instant values as half-open UTC ranges [low, high): a value stands for the whole span its
 * precision implies (FHIR R4 search §3.1.1.4.3 "date"). Values without a time zone are read as UTC.
 */
export interface DateRange {
  low: Date;
  high: Date;
}

const DATE_RE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function parseDateRange(text: string): DateRange | undefined {
  const m = DATE_RE.exec(text.trim());
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo === undefined ? undefined : Number(mo) - 1;
  const day = d === undefined ? undefined : Number(d);
  if (month !== undefined && (month < 0 || month > 11)) {
    return undefined;
  }
  // The last day of the month is day 0 of the next one: 2024-02-31 is no date (JavaScript would roll it over).
  if (day !== undefined && (day < 1 || day > utc(year, (month ?? 0) + 1, 0).getUTCDate())) {
    return undefined;
  }
  // Checked here, not left to Date: it reads hour 24 as the next day's midnight, where FHIR's time stops at 23:59:59.
  if (
    (h !== undefined && Number(h) > 23) ||
    (mi !== undefined && Number(mi) > 59) ||
    (s !== undefined && Number(s) > 59)
  ) {
    return undefined;
  }
  if (tz !== undefined && tz !== 'Z' && !/^[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00)$/.test(tz)) {
    return undefined;
  }
  if (h === undefined) {
    const low = utc(year, month ?? 0, day ?? 1);
    const high =
      day !== undefined
        ? utc(year, month ?? 0, day + 1)
        : month !== undefined
          ? utc(year, month + 1, 1)
          : utc(year + 1, 0, 1);
    return { low, high };
  }
  const seconds = s ?? '00';
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${seconds}${frac ? `.${frac.slice(0, 3).padEnd(3, '0')}` : ''}${tz ?? 'Z'}`;
  const low = new Date(iso);
  if (Number.isNaN(low.getTime())) {
    return undefined;
  }
  const step = frac !== undefined ? 1 : s !== undefined ? 1000 : 60_000;
  return { low, high: new Date(low.getTime() + step) };
}

function utc(year: number, month: number, day: number): Date {
  const date = new Date(Date.UTC(year, month, day));
  // Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(year, month, day);
  return date;
}

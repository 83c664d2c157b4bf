// UTC calendar fields of a millisecond timestamp, by integer arithmetic (no Date per row): the
// time table's hour, day, ISO week, ISO weekday, month and year, and the (year, month) partition of
// a play. Days-from-civil after Howard Hinnant's public-domain algorithms.

const DAY_MS = 86_400_000;

export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** Days since 1970-01-01 → proleptic Gregorian date (valid far beyond years 0..9999). */
export function civilFromDays(z: number): CivilDate {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function dayOf(ts: number): number {
  return Math.floor(ts / DAY_MS);
}

/** ISO weekday: Monday 1 … Sunday 7 (1970-01-01 was a Thursday). */
export function isoWeekday(days: number): number {
  return ((((days + 3) % 7) + 7) % 7) + 1;
}

/** ISO-8601 week number: the week of the Thursday of the same Monday-based week. */
export function isoWeek(days: number): number {
  const thursday = days + (4 - isoWeekday(days));
  const { year } = civilFromDays(thursday);
  return Math.floor((thursday - daysFromCivil(year, 1, 1)) / 7) + 1;
}

export interface TimeFields {
  hour: number;
  day: number;
  week: number;
  month: number;
  year: number;
  weekday: number;
}

export function timeFields(ts: number): TimeFields {
  const days = dayOf(ts);
  const { year, month, day } = civilFromDays(days);
  return { hour: hourOf(ts), day, week: isoWeek(days), month, year, weekday: isoWeekday(days) };
}

/** Hour of the UTC day, 0-23. */
export function hourOf(ts: number): number {
  return Math.floor((ts - dayOf(ts) * DAY_MS) / 3_600_000);
}

/**
 * (year, month) of many timestamps, caching per day: plays arrive roughly in time order, so most rows
 * fall on the day before them. Returns year * 16 + month (a compact partition code).
 */
export class MonthOfTs {
  private lastDay = NaN;
  private lastCode = 0;

  code(ts: number): number {
    const days = dayOf(ts);
    if (days !== this.lastDay) {
      const { year, month } = civilFromDays(days);
      this.lastDay = days;
      this.lastCode = year * 16 + month;
    }
    return this.lastCode;
  }
}

export function monthCodeParts(code: number): { year: number; month: number } {
  return { year: Math.floor(code / 16), month: code % 16 };
}

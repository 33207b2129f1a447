/**
 * CronJob schedules as Kubernetes reads them (robfig/cron's standard parser): five fields
 * (minute hour day-of-month month day-of-week), the macros `@yearly`/`@annually`, `@monthly`,
 * `@weekly`, `@daily`/`@midnight`, `@hourly`, and `@every <duration>`. Field parsing and the
 * calendar arithmetic (time zones included) are the `cron-parser` package's; this module only
 * applies Kubernetes' grammar around it. Pure: the times are parameters.
 */
import { CronExpressionParser } from 'cron-parser';

/** A parsed schedule: the first activation strictly after a time. */
export interface Schedule {
  next(after: Date): Date;
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

/** Go's `time.ParseDuration` for the units a schedule would use (`90s`, `1h30m`, `500ms`). */
export function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * units[m[2]];
    pos = re.lastIndex;
  }
  return pos === s.length && s.length > 0 ? total : undefined;
}

/** Whether `tz` names an IANA time zone this runtime knows (`Etc/UTC`, `Europe/Berlin`). */
export function isValidTimeZone(tz: string): boolean {
  if (!tz) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    // RangeError: not a zone the runtime knows — exactly what the caller asks.
    return false;
  }
}

/**
 * Parses a schedule in `timeZone` (default: UTC, the controller manager's zone here). Returns
 * the error text Kubernetes' parser would give when it cannot be parsed.
 */
export function parseSchedule(schedule: string, timeZone?: string): { ok: true; schedule: Schedule } | { ok: false; error: string } {
  const text = schedule.trim();
  if (text === '') return { ok: false, error: 'empty spec string' };
  if (text.startsWith('@every ')) {
    const ms = parseGoDuration(text.slice('@every '.length).trim());
    if (ms === undefined) return { ok: false, error: `failed to parse duration ${text}: time: invalid duration "${text.slice(7).trim()}"` };
    // robfig/cron rounds the delay to whole seconds, at least one.
    const delay = Math.max(1000, Math.round(ms / 1000) * 1000);
    return { ok: true, schedule: { next: (after) => new Date(Math.floor(after.getTime() / 1000) * 1000 + delay) } };
  }
  let expr = text;
  if (text.startsWith('@')) {
    const macro = MACROS[text];
    if (!macro) return { ok: false, error: `unrecognized descriptor: ${text}` };
    expr = macro;
  }
  const fields = expr.split(/\s+/);
  if (fields.length !== 5) return { ok: false, error: `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]` };
  const tz = timeZone || 'UTC';
  try {
    CronExpressionParser.parse(expr, { tz, currentDate: new Date(0) }).next();
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  return {
    ok: true,
    schedule: {
      next: (after) => CronExpressionParser.parse(expr, { tz, currentDate: new Date(Math.floor(after.getTime() / 1000) * 1000 + 999) }).next().toDate(),
    },
  };
}

// Users of the simulated service, each a pure function of (seed, user number): name, gender,
// location, browser, registration time, and a subscription history. Some free users upgrade to
// paid at a moment inside the simulated period, so their `level` changes over time and the users
// table must pick the latest event to show `paid`.
import { hash32, unit } from './random.js';
import { eventsimString, pythonFloat } from './jsonText.js';
import { FIRST_NAMES_F, FIRST_NAMES_M, LAST_NAMES, PLACES, USER_AGENTS } from './vocabulary.js';

export interface User {
  /** 1-based, written as a string ("39") like eventsim. */
  id: number;
  firstName: string;
  lastName: string;
  gender: 'F' | 'M';
  location: string;
  userAgent: string;
  /** ms since the epoch; eventsim writes it as a float ("1540919166796.0"). */
  registration: number;
  /** Level before `upgradeAt`; `paid` from then on. */
  initialLevel: 'free' | 'paid';
  /** ms since the epoch, or Infinity for users who never upgrade. */
  upgradeAt: number;
}

/** The JSON fragments of a logged-in user's event lines, built once per session. */
export interface UserFragments {
  /** `,"auth":"Logged In","firstName":…,"gender":…,"itemInSession":` */
  head: string;
  /** `,"lastName":…,"length":` */
  lastName: string;
  /** `","location":…,"method":"` */
  location: string;
  /** `","registration":…,"sessionId":` */
  registration: string;
  /** `,"userAgent":…,"userId":"…"}` */
  tail: string;
}

export const LOGGED_OUT: UserFragments = {
  head: ',"auth":"Logged Out","firstName":null,"gender":null,"itemInSession":',
  lastName: ',"lastName":null,"length":',
  location: '","location":null,"method":"',
  registration: '","registration":null,"sessionId":',
  tail: ',"userAgent":null,"userId":""}',
};

export class Users {
  constructor(
    readonly seed: number,
    readonly count: number,
    /** Start and end of the simulated period (ms). */
    readonly start: number,
    readonly end: number,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`users must be a positive integer: ${count}`);
  }

  user(id: number): User {
    const s = this.seed;
    const gender = unit(s, id, 31) < 0.5 ? 'F' : 'M';
    const firsts = gender === 'F' ? FIRST_NAMES_F : FIRST_NAMES_M;
    const paidFromStart = unit(s, id, 36) < 0.2;
    // 45% of free users upgrade at a uniformly random moment of the period.
    const upgrades = !paidFromStart && unit(s, id, 37) < 0.45;
    return {
      id,
      firstName: firsts[hash32(s, id, 32) % firsts.length]!,
      lastName: LAST_NAMES[hash32(s, id, 33) % LAST_NAMES.length]!,
      gender,
      location: PLACES[hash32(s, id, 34) % PLACES.length]!.name,
      userAgent: USER_AGENTS[hash32(s, id, 35) % USER_AGENTS.length]!,
      // Registered up to 90 days before the period starts, on a whole second plus eventsim's 796 ms.
      registration: this.start - 1000 * Math.floor(unit(s, id, 38) * 90 * 86400) - 204,
      initialLevel: paidFromStart ? 'paid' : 'free',
      upgradeAt: upgrades ? this.start + Math.floor(unit(s, id, 39) * (this.end - this.start)) : Infinity,
    };
  }

  levelAt(user: User, ts: number): 'free' | 'paid' {
    return ts >= user.upgradeAt ? 'paid' : user.initialLevel;
  }

  fragments(user: User): UserFragments {
    return {
      head: `,"auth":"Logged In","firstName":${eventsimString(user.firstName)},"gender":"${user.gender}","itemInSession":`,
      lastName: `,"lastName":${eventsimString(user.lastName)},"length":`,
      location: `","location":${eventsimString(user.location)},"method":"`,
      registration: `","registration":${pythonFloat(user.registration)},"sessionId":`,
      tail: `,"userAgent":${eventsimString(user.userAgent)},"userId":"${user.id}"}`,
    };
  }
}

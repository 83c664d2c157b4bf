// The eventsim-like simulation: a discrete-event loop that yields event lines in timestamp order
// with memory bounded by the number of concurrently open sessions, not by the number of events.
//
//   session arrivals (Poisson) ──▶ min-heap of open sessions by next event time ──▶ pop, emit one
//   event, schedule the session's next event (after the song's length, or a short page gap)
//
// A session belongs to one user, has a global increasing sessionId, and numbers its events with
// itemInSession from 0. Some sessions start logged out (Home/About/Help with userId "", then Login),
// and half end with Logout and a logged-out Home. A session's length is drawn when it opens (mean
// `meanSessionEvents`), so the arrival rate that spreads `events` over the period is known upfront.
// A free user whose upgrade moment has come visits Upgrade and submits it in their next logged-in
// steps, and is `paid` from then on, in every session.
import { Rng, scatter, zipfRank } from './random.js';
import type { Catalog } from './catalog.js';
import { eventsimString } from './jsonText.js';
import { LOGGED_OUT, type User, type UserFragments, type Users } from './users.js';

export interface EventStreamOptions {
  seed: number;
  /** Exactly this many event lines are produced. */
  events: number;
  catalog: Catalog;
  users: Users;
  /** Share of NextSong events that play a catalog song (title, artist and duration exactly). */
  matchShare: number;
  /** Mean events per session. */
  meanSessionEvents?: number;
}

export interface EventLine {
  ts: number;
  text: string;
  page: string;
}

interface Session {
  id: number;
  user: User;
  frags: UserFragments;
  /** `,"level":"free` / `,"level":"paid` joined to the location fragment, per auth state. */
  levelLocation: { in: { free: string; paid: string }; out: { free: string; paid: string } };
  loggedIn: boolean;
  level: 'free' | 'paid';
  item: number;
  remaining: number;
  nextTs: number;
  /** Pages still to emit before the normal flow (logged-out prelude, Login, Save Settings…). */
  queue: string[];
  prevPage: string;
  /** Half of the sessions end with Logout then one logged-out Home. */
  logoutAtEnd: boolean;
}

/** HTTP method and status per page, as in the real logs. */
const PAGE_HTTP: Record<string, [string, number]> = {
  NextSong: ['PUT', 200],
  Home: ['GET', 200],
  Login: ['PUT', 307],
  Logout: ['PUT', 307],
  Settings: ['GET', 200],
  'Save Settings': ['PUT', 307],
  Help: ['GET', 200],
  About: ['GET', 200],
  Upgrade: ['GET', 200],
  'Submit Upgrade': ['PUT', 307],
  Downgrade: ['GET', 200],
  Error: ['GET', 404],
};

/** Per page: `<method>","page":"<page>` and `,"status":<status>,"ts":` (fewer pieces per line). */
const PAGE_TEXT: Record<string, { page: string; status: string }> = Object.fromEntries(
  Object.entries(PAGE_HTTP).map(([page, [method, status]]) => [page, { page: `${method}","page":"${page}`, status: `,"status":${status},"ts":` }]),
);

/** Cumulative page weights while logged in (the Udacity sample: NextSong ≈ 85 %, Home ≈ 8 % …). */
const LOGGED_IN_PAGES: [string, number][] = [
  ['NextSong', 0.85],
  ['Home', 0.074],
  ['Settings', 0.008],
  ['Help', 0.006],
  ['About', 0.004],
  ['UpgradeOrDowngrade', 0.016],
  ['Error', 0.002],
];
const CUMULATIVE = (() => {
  let acc = 0;
  return LOGGED_IN_PAGES.map(([p, w]) => [p, (acc += w)] as [string, number]);
})();

/** A plain binary min-heap of sessions by (nextTs, id): deterministic tie-breaking. */
class SessionHeap {
  private items: Session[] = [];
  get size() {
    return this.items.length;
  }
  peek(): Session | undefined {
    return this.items[0];
  }
  private less(a: Session, b: Session) {
    return a.nextTs < b.nextTs || (a.nextTs === b.nextTs && a.id < b.id);
  }
  push(s: Session) {
    const h = this.items;
    h.push(s);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Session | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

interface SongText {
  /** `{"artist":"…"` */
  artist: string;
  /** `,"song":"…"` */
  song: string;
  length: string;
  seconds: number;
}

const NO_SONG: SongText = { artist: '{"artist":null', song: ',"song":null', length: 'null', seconds: 0 };
const levelLocation = (location: string) => ({ free: ',"level":"free' + location, paid: ',"level":"paid' + location });

export class EventStream {
  private readonly rng: Rng;
  private readonly heap = new SessionHeap();
  private readonly songOrder: (rank: number) => number;
  private readonly outsideOrder: (rank: number) => number;
  private readonly userOrder: (rank: number) => number;
  private readonly songCache = new Map<number, SongText>();
  private readonly meanGap: number;
  private readonly meanLen: number;
  private nextArrival: number;
  private nextSessionId = 1;
  private emitted = 0;
  /** Users who submitted their upgrade (one byte per user: bounded by users, not events). */
  private readonly upgraded: Uint8Array;

  constructor(private readonly opts: EventStreamOptions) {
    this.rng = new Rng(opts.seed);
    const { catalog, users } = opts;
    this.meanLen = opts.meanSessionEvents ?? 25;
    const sessions = Math.max(1, opts.events / this.meanLen);
    this.meanGap = (users.end - users.start) / sessions;
    this.nextArrival = users.start + this.rng.exp(this.meanGap);
    this.songOrder = scatter(Math.max(1, catalog.songs), opts.seed + 1);
    // Songs nobody has in the catalog: a virtual catalog four times as big, after the real one.
    this.outsideOrder = scatter(Math.max(4, catalog.songs * 4), opts.seed + 2);
    this.userOrder = scatter(users.count, opts.seed + 3);
    this.upgraded = new Uint8Array(users.count + 1);
  }

  get produced(): number {
    return this.emitted;
  }

  /** The next event line in timestamp order, or null after `events` lines. */
  next(): EventLine | null {
    if (this.emitted >= this.opts.events) return null;
    while (this.heap.size === 0 || this.nextArrival <= this.heap.peek()!.nextTs) this.openSession();
    const s = this.heap.pop()!;
    const line = this.emit(s);
    this.emitted++;
    if (s.remaining > 0) this.heap.push(s);
    return line;
  }

  private openSession() {
    const { users } = this.opts;
    const rng = this.rng;
    // Half of the sessions come from a Zipf-active minority, half from anyone.
    const rank = rng.next() < 0.5 ? zipfRank(rng.next(), users.count) : rng.int(users.count);
    const user = users.user(1 + this.userOrder(rank));
    const ts = Math.floor(this.nextArrival);
    const frags = users.fragments(user);
    const s: Session = {
      id: this.nextSessionId++,
      user,
      frags,
      levelLocation: { in: levelLocation(frags.location), out: levelLocation(LOGGED_OUT.location) },
      loggedIn: true,
      level: this.upgraded[user.id] ? 'paid' : user.initialLevel,
      item: 0,
      remaining: rng.geometric(this.meanLen),
      nextTs: ts,
      queue: [],
      prevPage: '',
      logoutAtEnd: false,
    };
    s.logoutAtEnd = s.remaining >= 3 && rng.next() < 0.5;
    if (rng.next() < 0.12) {
      // Starts logged out: a page or two, then Login.
      s.loggedIn = false;
      const n = 1 + rng.int(2);
      for (let i = 0; i < n; i++) s.queue.push(rng.next() < 0.7 ? 'Home' : rng.next() < 0.5 ? 'About' : 'Help');
      s.queue.push('Login');
    } else if (rng.next() < 0.6) {
      s.queue.push('Home');
    }
    this.heap.push(s);
    this.nextArrival += rng.exp(this.meanGap);
  }

  private songText(index: number): SongText {
    let t = this.songCache.get(index);
    if (!t) {
      const { catalog } = this.opts;
      const song = catalog.song(index);
      t = { artist: '{"artist":' + eventsimString(catalog.artist(song.artist).name), song: ',"song":' + eventsimString(song.title), length: String(song.duration), seconds: song.duration };
      // Popular songs stay cached (Zipf: the top ranks are most plays); the cap keeps memory constant
      // whatever the catalog size (~150 bytes an entry).
      if (this.songCache.size >= 131072) this.songCache.clear();
      this.songCache.set(index, t);
    }
    return t;
  }

  private choosePage(s: Session): string {
    if (s.queue.length > 0) return s.queue.shift()!;
    const rng = this.rng;
    if (s.logoutAtEnd && s.loggedIn && s.remaining === 2) return 'Logout';
    if (s.level === 'free' && this.upgraded[s.user.id]) s.level = 'paid'; // upgraded in another session
    // The user's upgrade moment has come: the next logged-in steps are Upgrade then Submit Upgrade.
    if (s.loggedIn && s.level === 'free' && this.opts.users.levelAt(s.user, s.nextTs) === 'paid') {
      if (s.prevPage !== 'Upgrade') return 'Upgrade';
      return 'Submit Upgrade';
    }
    if (s.prevPage === 'Settings' && rng.next() < 0.5) return 'Save Settings';
    const r = rng.next() * CUMULATIVE[CUMULATIVE.length - 1]![1];
    let page = 'NextSong';
    for (const [p, c] of CUMULATIVE) {
      if (r < c) {
        page = p;
        break;
      }
    }
    if (page === 'UpgradeOrDowngrade') page = s.level === 'free' ? 'Upgrade' : 'Downgrade';
    return page;
  }

  private emit(s: Session): EventLine {
    const rng = this.rng;
    const page = this.choosePage(s);
    const frags = s.loggedIn ? s.frags : LOGGED_OUT;
    const pageText = PAGE_TEXT[page]!;
    const ts = s.nextTs;
    let t = NO_SONG;
    let gapMs: number;
    if (page === 'NextSong') {
      const { catalog } = this.opts;
      const inCatalog = catalog.songs > 0 && rng.next() < this.opts.matchShare;
      const index = inCatalog
        ? this.songOrder(zipfRank(rng.next(), catalog.songs))
        : catalog.songs + this.outsideOrder(zipfRank(rng.next(), Math.max(4, catalog.songs * 4)));
      t = this.songText(index);
      // Most songs are played to the end; some are skipped early.
      gapMs = Math.round(1000 * (rng.next() < 0.85 ? t.seconds : t.seconds * rng.next()));
    } else {
      gapMs = Math.round(1000 + rng.exp(20000));
    }
    // Keys in eventsim's (alphabetical) order; 13 pieces, most of them cached per session or song.
    const text =
      t.artist + frags.head + s.item + frags.lastName + t.length + (s.loggedIn ? s.levelLocation.in : s.levelLocation.out)[s.level] +
      pageText.page + frags.registration + s.id + t.song + pageText.status + ts + frags.tail;

    // State after this event.
    s.item++;
    s.prevPage = page;
    s.nextTs = ts + gapMs;
    s.remaining--;
    if (page === 'Login') s.loggedIn = true;
    if (page === 'Submit Upgrade') {
      s.level = 'paid';
      this.upgraded[s.user.id] = 1;
    }
    if (page === 'Logout') {
      // Sessions keep their drawn length (so arrivals can be planned from it): the last event after
      // a Logout is a logged-out Home.
      s.loggedIn = false;
      s.queue = ['Home'];
    }
    return { ts, text, page };
  }
}

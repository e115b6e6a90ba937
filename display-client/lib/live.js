// live.js — the one live connection every page uses.
//
// Guarantees:
//  * Starts from `GET /state` (the HallView and its `seq`), then subscribes to
//    `GET /api/v1/halls/{hall}/events?since=<lastSeq>` over WebSocket.
//  * Keeps `lastSeq`, the highest event seq applied. Any event with
//    seq <= lastSeq is ignored, so nothing is ever applied twice.
//  * `onCall(ev)` fires exactly once per `ticket_called` seq, in seq order —
//    from live events, from missed events replayed after a reconnect, or, when
//    the server answers a reconnect with a snapshot instead, from the
//    snapshot's `recent_calls` newer than lastSeq. A call is therefore never
//    shown (flashed, announced) twice and never missed across a restart.
//  * Push: once connected it sends `{"type":"subscribe","view":true}` (plus
//    `ticket` for a phone watching its ticket). The server then sends the
//    HallView as a `view` message after every batch of events (serialised
//    once on the server for every display) and, for a watched ticket, a
//    `ticket` message whenever its status changes. So no page asks the
//    server anything per event: `onState(view)` and `onTicket(status)` are
//    fed from the socket; an older view never overwrites a newer one.
//  * A `heartbeat` comes after 30 s without a message; a link quiet for
//    75 s is taken for dead and reconnected with since. The server's clock
//    comes from `subscribed` and `heartbeat` messages.
//  * Against a server that does not answer the subscription (an older one),
//    it falls back to re-fetching `GET /state` after events (debounced) and
//    every `pollMs`, where a poll that shows events the socket did not
//    deliver forces a reconnect.
//  * Reconnects by itself with exponential backoff and jitter, showing a
//    visible "正在重新连接 / Reconnecting" banner while the link is down.
//
// For tests, `window.__hallcall` exposes the live object and the calls seen.

import { api, hallBase, setHallTimezone } from './api.js';

const MAX_SEEN = 4096;

export class Live {
  /**
   * @param {object} o
   * @param {string} o.hall
   * @param {(view:object)=>void} [o.onState]    every fresh HallView
   * @param {(ev:object)=>void}   [o.onEvent]    every new event (seq > lastSeq)
   * @param {(ev:object)=>void}   [o.onCall]     every new call, once per seq
   * @param {(up:boolean)=>void}  [o.onConnection]
   * @param {(info:object)=>void} [o.onResync]   a reconnect got a snapshot (events may have been skipped)
   * @param {string} [o.ticket]  a ticket id to watch: its status comes as `ticket` messages
   * @param {(status:object)=>void} [o.onTicket]  every new status of the watched ticket
   * @param {number} [o.pollMs]   periodic /state refresh without push (default 15 s)
   * @param {number} [o.debounceMs] /state refresh after events without push, at most once per this (default 200 ms + jitter)
   */
  constructor(o) {
    this.o = o;
    this.hall = o.hall;
    this.base = hallBase(o.hall);
    this.lastSeq = null;
    this.state = null;
    this.stateSeq = -1;
    this.ws = null;
    this.up = false;
    this.attempt = 0;
    this.stopped = false;
    this.seenCalls = new Set();
    this.calls = []; // [{seq, number, window, recall, source}]
    this.ignored = 0;
    this.reconnects = 0;
    this.clockOffsetMs = 0; // server now - local now
    this._stateTimer = null;
    this._stateInflight = false;
    this._stateAgain = false;
    this._staleStrikes = 0;
    this._lastMessageAt = 0;
    this.push = false; // the server answered our subscription on this link
    this._serverClock = false; // clock offset taken from a live server message
    this.stateFetches = 0; // GET /state made (for tests: none per event with push)
    this.banner = makeBanner();
    globalThis.__hallcall = Object.assign(globalThis.__hallcall || {}, { live: this, calls: this.calls });
  }

  async start() {
    this._setUp(false, true);
    // The first state gives lastSeq; without it a `since` would be a guess.
    for (;;) {
      try {
        this.stateFetches++;
        const view = await api(`${this.base}/state`);
        this._acceptState(view);
        if (this.lastSeq === null) this.lastSeq = view.seq;
        break;
      } catch (e) {
        this._setUp(false);
        await sleep(this._nextDelay());
      }
    }
    this._connect();
    this._poll = setInterval(() => this._pollState(), this.o.pollMs ?? 15000);
    this._watchdog = setInterval(() => this.push && this._pollState(), 15000);
    return this;
  }

  stop() {
    this.stopped = true;
    clearInterval(this._poll);
    clearInterval(this._watchdog);
    clearTimeout(this._reconnectTimer);
    if (this.ws) this.ws.close();
  }

  /** Server time estimate in ms (for "how long ago" questions). */
  serverNow() {
    return Date.now() + this.clockOffsetMs;
  }

  /**
   * Re-fetch the HallView soon. Throttled: a burst of events costs one fetch
   * per `debounceMs` (plus a little jitter, so thousands of displays do not
   * ask in the same millisecond); `refresh(0)` asks at once. With push there
   * is nothing to fetch: the next batch brings its view.
   */
  refresh(delay) {
    if (this.push) return;
    if (delay === 0) {
      clearTimeout(this._stateTimer);
      this._stateTimer = null;
      this._fetchState();
      return;
    }
    if (this._stateTimer) return;
    const d = delay ?? (this.o.debounceMs ?? 200) + Math.random() * 100;
    this._stateTimer = setTimeout(() => {
      this._stateTimer = null;
      this._fetchState();
    }, d);
  }

  // ---- connection -------------------------------------------------------

  _connect() {
    if (this.stopped) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const since = this.lastSeq === null ? '' : `?since=${this.lastSeq}`;
    const url = `${proto}://${location.host}${this.base}/events${since}`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    const openTimer = setTimeout(() => {
      if (ws.readyState !== WebSocket.OPEN) ws.close();
    }, 10000);
    ws.onopen = () => {
      clearTimeout(openTimer);
      this.attempt = 0;
      this._lastMessageAt = Date.now();
      this.push = false;
      try {
        const sub = { type: 'subscribe', view: true };
        if (this.o.ticket) sub.ticket = this.o.ticket;
        ws.send(JSON.stringify(sub));
      } catch {
        // An older server ignores it; the fallback re-fetches.
      }
      this._setUp(true);
    };
    ws.onmessage = (m) => {
      this._lastMessageAt = Date.now();
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      this._dispatch(msg);
    };
    ws.onclose = () => {
      clearTimeout(openTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      this.push = false;
      this._setUp(false);
      this._scheduleReconnect();
    };
    ws.onerror = () => {
      // onclose follows and does the work.
    };
  }

  _scheduleReconnect() {
    if (this.stopped) return;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = setTimeout(() => {
      this.reconnects++;
      this._connect();
    }, this._nextDelay());
  }

  _nextDelay() {
    // 0.5 s, 1 s, 2 s, 4 s, then 5 s; ±20 % jitter so 4,000 displays do not
    // knock on a restarted server in the same millisecond.
    const base = Math.min(5000, 500 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    return base * (0.8 + Math.random() * 0.4);
  }

  _setUp(up, initial = false) {
    const changed = up !== this.up || initial;
    this.up = up;
    document.documentElement.dataset.live = up ? 'up' : 'down';
    // The banner shows only once the page has been live, or when the first
    // attempt failed — not during the first half second of a page load.
    if (up) this.banner.hidden = true;
    else if (!initial) this.banner.hidden = false;
    if (changed && this.o.onConnection) this.o.onConnection(up);
  }

  // ---- messages ---------------------------------------------------------

  _dispatch(msg) {
    if (Array.isArray(msg)) {
      for (const m of msg) this._dispatch(m);
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'snapshot') {
      this._snapshot(msg);
    } else if (msg.type === 'view') {
      if (msg.view) this._acceptState(msg.view);
    } else if (msg.type === 'ticket') {
      if (msg.ticket && this.o.onTicket) {
        try {
          this.o.onTicket(msg.ticket);
        } catch (e) {
          console.error(e);
        }
      }
    } else if (msg.type === 'subscribed' || msg.type === 'heartbeat') {
      if (msg.type === 'subscribed') {
        this.push = !!msg.view;
        if (this.push) {
          clearTimeout(this._stateTimer);
          this._stateTimer = null;
        }
      }
      const t = Date.parse(msg.now || '');
      if (!isNaN(t)) {
        this.clockOffsetMs = t - Date.now();
        this._serverClock = true;
      }
    } else if (msg.type === 'error') {
      console.warn('hallcall live:', msg.error && msg.error.message);
    } else if (Array.isArray(msg.events)) {
      for (const e of msg.events) this._dispatch(e);
    } else if (msg.type === 'lagged' || msg.type === 'resync') {
      // The server dropped us behind: come back with since=lastSeq.
      if (this.ws) this.ws.close();
    } else if (typeof msg.seq === 'number' && msg.type) {
      this._event(msg);
    }
  }

  _snapshot(msg) {
    const state = msg.state || msg.view;
    const seq = typeof msg.seq === 'number' ? msg.seq : state && state.seq;
    if (typeof seq !== 'number') return;
    const prev = this.lastSeq;
    if (prev !== null && seq > prev && state && Array.isArray(state.recent_calls)) {
      // Events between prev and seq were not replayed: the calls among them
      // are in recent_calls (newest first), each with its own seq.
      const missed = state.recent_calls.filter((c) => c.seq > prev).sort((a, b) => a.seq - b.seq);
      for (const c of missed) {
        this._emitCall({ type: 'ticket_called', seq: c.seq, at: c.at, hall: this.hall, number: c.number, category: c.category, window: c.window, recall: !!c.recall, from_snapshot: true });
      }
    }
    if (prev !== null && seq < prev) {
      // The server's history is shorter than ours (a new data directory):
      // follow it rather than ignore everything until it catches up.
      console.warn(`hallcall live: server seq ${seq} < lastSeq ${prev}; following the server`);
      this.lastSeq = seq;
    } else {
      this.lastSeq = Math.max(prev ?? seq, seq);
    }
    if (state) this._acceptState(state, true);
    if (prev !== null && seq !== prev && this.o.onResync) this.o.onResync({ from: prev, to: seq });
  }

  _event(ev) {
    if (this.lastSeq !== null && ev.seq <= this.lastSeq) {
      this.ignored++;
      return;
    }
    this.lastSeq = ev.seq;
    if (ev.type === 'ticket_called') this._emitCall(ev);
    if (this.o.onEvent) {
      try {
        this.o.onEvent(ev);
      } catch (e) {
        console.error(e);
      }
    }
    this.refresh();
  }

  _emitCall(ev) {
    if (this.seenCalls.has(ev.seq)) return;
    this.seenCalls.add(ev.seq);
    if (this.seenCalls.size > MAX_SEEN) {
      const oldest = this.seenCalls.values().next().value;
      this.seenCalls.delete(oldest);
    }
    this.calls.push({ seq: ev.seq, number: ev.number, window: ev.window, recall: !!ev.recall, source: ev.from_snapshot ? 'snapshot' : 'event' });
    if (this.calls.length > 500) this.calls.splice(0, this.calls.length - 500);
    if (this.o.onCall) {
      try {
        this.o.onCall(ev);
      } catch (e) {
        console.error(e);
      }
    }
  }

  // ---- state ------------------------------------------------------------

  _acceptState(view, force = false) {
    if (!view || typeof view.seq !== 'number') return false;
    if (!force && view.seq < this.stateSeq) return false;
    this.stateSeq = view.seq;
    this.state = view;
    // Clocks and times on every page follow the hall's zone, not the browser's.
    setHallTimezone(view.timezone);
    // A view's `now` is when its figures were computed; the server's clock
    // proper comes with `subscribed` and `heartbeat`.
    if (view.now && !this._serverClock) {
      const t = Date.parse(view.now);
      if (!isNaN(t)) this.clockOffsetMs = t - Date.now();
    }
    if (this.o.onState) {
      try {
        this.o.onState(view);
      } catch (e) {
        console.error(e);
      }
    }
    return true;
  }

  async _fetchState() {
    if (this._stateInflight) {
      this._stateAgain = true;
      return null;
    }
    this._stateInflight = true;
    try {
      this.stateFetches++;
      const view = await api(`${this.base}/state`);
      this._acceptState(view);
      return view;
    } catch {
      return null;
    } finally {
      this._stateInflight = false;
      if (this._stateAgain) {
        this._stateAgain = false;
        this.refresh(50);
      }
    }
  }

  /** Seconds since the current view's figures were computed (server time). */
  viewAgeS() {
    const t = this.state && Date.parse(this.state.now);
    return t ? Math.max(0, (this.serverNow() - t) / 1000) : 0;
  }

  async _pollState() {
    if (this.push) {
      // Pushed views need no polling; only a link quiet past two
      // heartbeats is suspect.
      if (this.up && this.ws && Date.now() - this._lastMessageAt > 75000) this.ws.close();
      return;
    }
    const view = await this._fetchState();
    if (!view || !this.up || this.lastSeq === null) return;
    // The state is ahead of what the socket delivered twice in a row, and the
    // socket has been quiet meanwhile: it is stale, reconnect with since.
    if (view.seq > this.lastSeq && Date.now() - this._lastMessageAt > 5000) {
      if (++this._staleStrikes >= 2 && view.seq !== this._staleSeq) {
        this._staleSeq = view.seq;
        this._staleStrikes = 0;
        if (this.ws) this.ws.close();
      }
    } else {
      this._staleStrikes = 0;
    }
  }
}

function makeBanner() {
  let b = document.getElementById('live-banner');
  if (!b) {
    b = document.createElement('div');
    b.id = 'live-banner';
    b.className = 'live-banner';
    b.setAttribute('role', 'status');
    b.innerHTML = '<span class="live-spinner" aria-hidden="true"></span>正在重新连接… <span class="en">Reconnecting…</span>';
    document.body.prepend(b);
  }
  b.hidden = true;
  return b;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

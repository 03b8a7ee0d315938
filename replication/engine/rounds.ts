// Anti-entropy rounds: every interval (±25 % jitter), and whenever asked, each local keygroup is
// compared with each other member. An Enoki member answers the digest exchange; a FReD member
// does not, and is compared through its full copy instead (anti-entropy.ts has both). Rounds
// never overlap: a round asked for while one runs starts after it. Which peers answered the
// digest exchange is remembered (`enokiPeers`): the missed-write log needs no record for them.

import type { ReplicaStore } from '../store/port.js';
import { horizonOf, type OriginLedger } from './ages.js';
import type { AntiEntropy, ExchangeResult } from './anti-entropy.js';
import type { ReplicationLogger } from './logger.js';
import type { Member } from './membership.js';
import type { TimerHandle, Timers } from './timers.js';
import { isPeerUnsupported } from './transport.js';

/** Peers without the digest exchange (FReD nodes) are skipped: counted neither as exchanges nor as failed. */
export interface AntiEntropyReport {
  exchanges: number;
  equal: number;
  failed: number;
  pulled: number;
  pushed: number;
}

export interface RoundsOptions {
  self: string;
  store: ReplicaStore;
  antiEntropy: AntiEntropy;
  ledger: OriginLedger;
  timers: Timers;
  random: () => number;
  logger: ReplicationLogger;
  /** Period of the rounds; 0 runs none on its own (run() still does). */
  intervalMs: number;
  members: (keygroup: string) => Promise<Member[]>;
  /** An exchange with `peer` ended: its outbox may have something to deliver now. */
  exchanged: (peer: string) => void;
}

export class AntiEntropyRounds {
  /** Peers that answered a digest exchange (or asked for one): Enoki nodes. */
  readonly enokiPeers = new Set<string>();
  #round?: Promise<AntiEntropyReport>;
  #timer?: TimerHandle;
  #running = false;

  constructor(private readonly options: RoundsOptions) {}

  start(): void {
    this.#running = true;
    this.#schedule();
  }

  /** Stops the timer; resolves once a round in progress has ended. */
  async stop(): Promise<void> {
    this.#running = false;
    this.options.timers.clearTimeout(this.#timer);
    await this.#round?.catch(() => {});
  }

  /** One round now (all local keygroups, or one); rounds never overlap, calls queue. */
  run(keygroup?: string): Promise<AntiEntropyReport> {
    const run = (this.#round ?? Promise.resolve()).catch(() => {}).then(() => this.#roundOf(keygroup));
    this.#round = run;
    void run.finally(() => {
      if (this.#round === run) this.#round = undefined;
    });
    return run;
  }

  async #roundOf(only?: string): Promise<AntiEntropyReport> {
    const { self, store, ledger, timers, logger } = this.options;
    const report: AntiEntropyReport = { exchanges: 0, equal: 0, failed: 0, pulled: 0, pushed: 0 };
    ledger.sweep(timers.now());
    const names = only !== undefined ? [only] : (await store.listKeygroups()).map((k) => k.name);
    for (const keygroup of names) {
      let members: Member[];
      try {
        members = await this.options.members(keygroup);
      } catch (error) {
        logger.warn({ keygroup, err: error }, 'anti-entropy skipped: membership unknown');
        continue;
      }
      const me = members.find((m) => m.nodeId === self);
      if (!me) continue;
      for (const peer of members) {
        if (peer.nodeId === self) continue;
        report.exchanges++;
        let result: ExchangeResult;
        try {
          result = await this.#exchange(keygroup, me, peer);
        } catch (error) {
          report.failed++;
          logger.debug({ keygroup, peer: peer.nodeId, err: error }, 'anti-entropy exchange failed');
          continue;
        }
        if (result.equal) report.equal++;
        report.pulled += result.pulled;
        report.pushed += result.pushed;
        this.options.exchanged(peer.nodeId);
        if (!result.equal) logger.debug({ keygroup, peer: peer.nodeId, ...result }, 'anti-entropy repaired');
      }
    }
    return report;
  }

  /** The digest exchange with an Enoki member, the full exchange with a FReD member. */
  async #exchange(keygroup: string, me: Member, peer: Member): Promise<ExchangeResult> {
    const { antiEntropy } = this.options;
    try {
      const result = await antiEntropy.exchange(keygroup, me, peer);
      this.enokiPeers.add(peer.nodeId);
      return result;
    } catch (error) {
      if (!isPeerUnsupported(error)) throw error;
      this.enokiPeers.delete(peer.nodeId);
      return antiEntropy.fullExchange(keygroup, me, peer, { pull: horizonOf(me.expiry, peer.expiry) === 0 });
    }
  }

  #schedule(): void {
    const { intervalMs, timers, random, logger } = this.options;
    if (!this.#running || intervalMs <= 0) return;
    const delay = intervalMs * (0.75 + random() / 2);
    this.#timer = timers.setTimeout(() => {
      void this.run()
        .catch((error) => logger.error({ err: error }, 'anti-entropy round failed'))
        .finally(() => this.#schedule());
    }, delay);
  }
}

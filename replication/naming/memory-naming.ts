// In-memory NamingService: the single-node default, needing no etcd; same keys and rules as EtcdNaming.
import { NamingBase } from './naming-base.js';
import type { NamingListener, NamingLogger } from './port.js';
import { guardsHold, type Planner } from './plans.js';
import { NamingState, notify } from './state.js';

export interface MemoryNamingOptions {
  logger?: NamingLogger;
}

export class MemoryNaming extends NamingBase {
  protected readonly state = new NamingState();
  protected readonly listeners = new Set<NamingListener>();

  constructor(private readonly options: MemoryNamingOptions = {}) {
    super();
  }

  protected async _start(): Promise<void> {}

  protected async _close(): Promise<void> {}

  /** Plans and applies in one synchronous step: the image is the truth, so guards hold by construction. */
  protected async _write(planner: Planner): Promise<void> {
    const plan = planner(this.state);
    if (!guardsHold(this.state, plan.guards)) throw new Error('naming: a plan contradicts the image it was made from');
    if (plan.error) throw plan.error;
    const ops = [...plan.cleanup, ...plan.ops];
    if (ops.length === 0) return;
    const revision = this.state.revision + 1; // one revision per write, as etcd gives a transaction
    const changes = this.state.apply(
      ops.map((op) => ({ ...op, mod: revision })),
      revision,
    );
    notify(this.listeners, changes, this.options.logger);
  }
}

// Triggers: the per-node TriggerStore port, its in-memory implementation, and the notifier that
// calls a keygroup's trigger endpoints after a put or delete (local or replicated).
import type { CallTrigger, ClientApiLogger, TriggerEvent } from './deps.js';
import { silentLogger } from './deps.js';

export interface TriggerRecord {
  id: string;
  /** host:port of the endpoint serving mcc.fred.trigger.TriggerNode. */
  host: string;
}

/**
 * Triggers registered on this node, per keygroup (FReD keeps them on the node that received
 * AddTrigger; they are not shared through the naming service). Implementations: MemoryTriggerStore,
 * FileTriggerStore (a JSON file). Both run test/replication/client-api/trigger-store-conformance.ts.
 */
export interface TriggerStore {
  /** The keygroup's triggers sorted by id; [] when it has none. */
  list(keygroup: string): Promise<TriggerRecord[]>;
  /** Adds a trigger; an existing id gets the new host (as FReD's store overwrites it). */
  add(keygroup: string, trigger: TriggerRecord): Promise<void>;
  /** Removes a trigger; resolves false when the keygroup had no trigger with that id. */
  remove(keygroup: string, id: string): Promise<boolean>;
  /** Forgets every trigger of the keygroup (it was deleted or left). */
  removeKeygroup(keygroup: string): Promise<void>;
}

export class MemoryTriggerStore implements TriggerStore {
  private readonly byKeygroup = new Map<string, Map<string, string>>();

  async list(keygroup: string): Promise<TriggerRecord[]> {
    return sortedRecords(this.byKeygroup.get(keygroup));
  }

  async add(keygroup: string, trigger: TriggerRecord): Promise<void> {
    const triggers = this.byKeygroup.get(keygroup) ?? new Map<string, string>();
    triggers.set(trigger.id, trigger.host);
    this.byKeygroup.set(keygroup, triggers);
  }

  async remove(keygroup: string, id: string): Promise<boolean> {
    const triggers = this.byKeygroup.get(keygroup);
    if (!triggers?.delete(id)) return false;
    if (triggers.size === 0) this.byKeygroup.delete(keygroup);
    return true;
  }

  async removeKeygroup(keygroup: string): Promise<void> {
    this.byKeygroup.delete(keygroup);
  }
}

/** Records of one keygroup's id → host map, sorted by id in code-unit order. */
export function sortedRecords(triggers: ReadonlyMap<string, string> | undefined): TriggerRecord[] {
  if (!triggers) return [];
  return [...triggers.keys()].sort().map((id) => ({ id, host: triggers.get(id)! }));
}

/** Reports a put (value given) or a delete (value undefined) to the keygroup's triggers. */
export type NotifyTriggers = (keygroup: string, id: string, value: string | undefined) => Promise<void>;

export interface TriggerNotifierDeps {
  triggers: TriggerStore;
  callTrigger: CallTrigger;
  logger?: ClientApiLogger;
}

/**
 * The notifier the client API uses after its own writes; the composition root hands another one
 * (they are stateless) to the replication engine for replicated writes. It resolves once every
 * endpoint has answered or failed and never rejects: a trigger is an observer and must not fail
 * or undo a write. Endpoints are called in parallel, once per distinct host, so two trigger ids
 * registered with one endpoint do not make it see every event twice.
 */
export function createTriggerNotifier(deps: TriggerNotifierDeps): NotifyTriggers {
  const logger = deps.logger ?? silentLogger;
  return async (keygroup, id, value) => {
    let triggers: TriggerRecord[];
    try {
      triggers = await deps.triggers.list(keygroup);
    } catch (err) {
      logger.error({ err, keygroup, id }, 'could not read the triggers of a keygroup; none notified');
      return;
    }
    if (triggers.length === 0) return;
    const event: TriggerEvent = value === undefined ? { kind: 'delete', keygroup, id } : { kind: 'put', keygroup, id, value };
    const hosts = [...new Set(triggers.map((t) => t.host))];
    await Promise.all(
      hosts.map(async (host) => {
        try {
          await deps.callTrigger(host, event);
          logger.debug({ keygroup, id, host, kind: event.kind }, 'trigger notified');
        } catch (err) {
          logger.warn({ err, keygroup, id, host, kind: event.kind }, 'trigger call failed');
        }
      }),
    );
  };
}

// Write planning shared by both implementations: each write becomes guarded key operations.
//
// A planner reads the local image (NamingState) and returns the keys to put/delete plus the
// guards under which that decision is right. MemoryNaming applies a plan at once (its image is
// the truth). EtcdNaming sends it as one etcd transaction: the guards become compares, so a
// stale cache can never cause a wrong write; if they fail it waits for its watch and re-plans.
// A plan may also carry the error the write ends in (e.g. the keygroup exists): that outcome is
// equally conditional on the guards, so EtcdNaming confirms it with a guards-only transaction.
import {
  NamingError,
  ROLE_METHODS,
  type CreateKeygroupRequest,
  type MissedWrite,
  type NodeRecord,
  type Role,
} from './port.js';
import {
  KG_CREATED,
  KG_DELETED,
  MEMBER_OK,
  MEMBER_REMOVED,
  MISSED_MARK,
  PERMISSION_OK,
  checkAddress,
  checkExpiry,
  checkKeygroup,
  checkRole,
  checkSegment,
  keys,
} from './schema.js';
import type { NamingState } from './state.js';

export type Guard =
  /** The key holds exactly this value (undefined: the key is absent). */
  | { key: string; value: string | undefined }
  /** No key under the prefix was written after revision maxMod (catches keys the image lacks). */
  | { prefix: string; maxMod: number };

/** Put (value) or delete (undefined). */
export interface Op {
  key: string;
  value: string | undefined;
}

export interface Plan {
  guards: Guard[];
  ops: Op[];
  /**
   * Deletes of leftovers that may go in earlier transactions (under the same guards) when the
   * whole plan exceeds a transaction's size limit; otherwise they join `ops` in one transaction.
   */
  cleanup: Op[];
  error?: NamingError;
}

class PlanBuilder {
  readonly plan: Plan = { guards: [], ops: [], cleanup: [] };
  constructor(private readonly state: NamingState) {}

  guard(key: string): string | undefined {
    const value = this.state.get(key);
    this.plan.guards.push({ key, value });
    return value;
  }

  /** Puts unless the key already holds the value, in which case the plan only depends on it. */
  set(key: string, value: string): this {
    if (this.state.get(key) === value) this.plan.guards.push({ key, value });
    else this.plan.ops.push({ key, value });
    return this;
  }

  /** Deletes if present; otherwise the plan depends on the key staying absent. */
  remove(key: string): this {
    if (this.state.get(key) === undefined) this.plan.guards.push({ key, value: undefined });
    else this.plan.ops.push({ key, value: undefined });
    return this;
  }

  fail(error: NamingError): Plan {
    return { ...this.plan, ops: [], cleanup: [], error };
  }

  /** Guards the keygroup's status; returns a failed plan unless it exists. */
  requireKeygroup(keygroup: string): Plan | undefined {
    if (this.guard(keys.kgStatus(keygroup)) === KG_CREATED) return undefined;
    return this.fail(new NamingError('ERR_KEYGROUP_NOT_FOUND', `keygroup ${keygroup} does not exist`));
  }
}

export type Planner = (state: NamingState) => Plan;

export function planRegisterNode(node: NodeRecord): Planner {
  checkSegment(node.id, 'node id');
  checkAddress(node.address, 'peering address');
  checkAddress(node.extAddress, 'client-API address');
  return (state) =>
    new PlanBuilder(state).set(keys.nodeAddress(node.id), node.address).set(keys.nodeExtAddress(node.id), node.extAddress).plan;
}

export function planCreateKeygroup(req: CreateKeygroupRequest): Planner {
  checkKeygroup(req.name);
  checkExpiry(req.expiry);
  checkSegment(req.node, 'node id');
  if (req.owner !== undefined) checkSegment(req.owner, 'user');
  if (typeof req.mutable !== 'boolean') throw new NamingError('ERR_INVALID_ARGUMENT', 'mutable must be a boolean');
  return (state) => {
    const b = new PlanBuilder(state);
    if (b.guard(keys.kgStatus(req.name)) === KG_CREATED) {
      return b.fail(new NamingError('ERR_KEYGROUP_EXISTS', `keygroup ${req.name} already exists`));
    }
    const kg = req.name;
    const ownerKeys = new Set(
      req.owner === undefined ? [] : Object.values(ROLE_METHODS).flat().map((m) => keys.permission(req.owner!, kg, m)),
    );
    // A previous incarnation's replicas and grants must not carry over to the new keygroup.
    // (FReD clears old members the same way; it leaves old grants, which would let their holders in.)
    for (const node of state.memberStatuses(kg).keys()) {
      if (node !== req.node) b.plan.cleanup.push({ key: keys.kgMember(kg, node), value: undefined });
    }
    for (const { user, method } of state.permissionKeys(kg)) {
      const key = keys.permission(user, kg, method);
      if (!ownerKeys.has(key)) b.plan.cleanup.push({ key, value: undefined });
    }
    b.plan.ops.push(
      { key: keys.kgMutable(kg), value: String(req.mutable) },
      { key: keys.kgExpiry(kg, req.node), value: String(req.expiry) },
      { key: keys.kgStatus(kg), value: KG_CREATED },
      { key: keys.kgMember(kg, req.node), value: MEMBER_OK },
    );
    for (const key of ownerKeys) b.plan.ops.push({ key, value: PERMISSION_OK });
    return b.plan;
  };
}

export function planDeleteKeygroup(name: string): Planner {
  checkKeygroup(name);
  return (state) => {
    const b = new PlanBuilder(state);
    return b.requireKeygroup(name) ?? b.set(keys.kgStatus(name), KG_DELETED).plan;
  };
}

export function planAddReplica(keygroup: string, node: string, expiry: number): Planner {
  checkKeygroup(keygroup);
  checkSegment(node, 'node id');
  checkExpiry(expiry);
  return (state) => {
    const b = new PlanBuilder(state);
    const failed = b.requireKeygroup(keygroup);
    if (failed) return failed;
    // FReD only lets registered nodes join (it needs their address to replicate to them).
    if (b.guard(keys.nodeAddress(node)) === undefined) {
      return b.fail(new NamingError('ERR_NODE_NOT_FOUND', `node ${node} is not registered`));
    }
    return b.set(keys.kgExpiry(keygroup, node), String(expiry)).set(keys.kgMember(keygroup, node), MEMBER_OK).plan;
  };
}

export function planRemoveReplica(keygroup: string, node: string): Planner {
  checkKeygroup(keygroup);
  checkSegment(node, 'node id');
  return (state) => {
    const b = new PlanBuilder(state);
    const failed = b.requireKeygroup(keygroup);
    if (failed) return failed;
    // The decision depends on the whole member set (is this the last one?), so guard all of it,
    // including members added elsewhere that this image has not seen yet.
    const members = state.memberStatuses(keygroup);
    b.plan.guards.push({ prefix: keys.kgMemberPrefix(keygroup), maxMod: state.revision });
    if (members.get(node) !== MEMBER_OK) {
      return b.fail(new NamingError('ERR_REPLICA_NOT_FOUND', `node ${node} is not a replica of ${keygroup}`));
    }
    if ([...members.values()].filter((s) => s === MEMBER_OK).length === 1) {
      return b.fail(new NamingError('ERR_LAST_REPLICA', `node ${node} is the last replica of ${keygroup}; delete the keygroup instead`));
    }
    return b.set(keys.kgMember(keygroup, node), MEMBER_REMOVED).plan;
  };
}

export function planRole(user: string, keygroup: string, role: Role, grant: boolean): Planner {
  checkSegment(user, 'user');
  checkKeygroup(keygroup);
  checkRole(role);
  return (state) => {
    const b = new PlanBuilder(state);
    const failed = b.requireKeygroup(keygroup);
    if (failed) return failed;
    for (const method of ROLE_METHODS[role]) {
      const key = keys.permission(user, keygroup, method);
      if (grant) b.set(key, PERMISSION_OK);
      else b.remove(key);
    }
    return b.plan;
  };
}

export function planMissed(write: MissedWrite, mark: boolean): Planner {
  checkSegment(write.node, 'node id');
  checkKeygroup(write.keygroup);
  checkKeygroup(write.id, 'item id');
  const key = keys.missed(write.node, write.keygroup, write.id);
  return (state) => {
    const b = new PlanBuilder(state);
    return (mark ? b.set(key, MISSED_MARK) : b.remove(key)).plan;
  };
}

/** Whether every guard holds against the image (MemoryNaming's image is the truth). */
export function guardsHold(state: NamingState, guards: readonly Guard[]): boolean {
  return guards.every((g) => {
    if ('key' in g) return state.get(g.key) === g.value;
    return true; // prefix guards cannot fail when planning and applying happen in one step
  });
}

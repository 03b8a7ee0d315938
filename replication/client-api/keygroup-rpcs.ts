// Keygroup and replica RPCs of FReD's client API: CreateKeygroup, DeleteKeygroup, AddReplica,
// RemoveReplica, GetKeygroupInfo, GetReplica, GetAllReplica.
//
// The naming service is the authority: each change is made there first (atomically, checked
// cluster-wide), then carried out locally and announced to the nodes concerned. Once the naming
// change is made the call succeeds even if telling another node fails, since every node also
// follows the naming service.
import { NamingError } from '../naming/port.js';
import type { KeygroupInfo as LocalKeygroup, StoreError } from '../store/port.js';
import { bestEffort, type Handler, type RpcContext } from './context.js';
import {
  parseAddReplica,
  parseCreateKeygroup,
  parseGetReplica,
  parseKeygroup,
  parseRemoveReplica,
  type WireAddReplica,
  type WireCreateKeygroup,
  type WireGetReplica,
  type WireKeygroupOnly,
  type WireRemoveReplica,
} from './requests.js';

export function createKeygroupRpcs(ctx: RpcContext): Record<string, Handler<never>> {
  const { naming, store, replication, nodeId, logger } = ctx;

  /**
   * The naming service just confirmed that no keygroup of this name exists anywhere, so a local
   * copy under that name is a leftover of an earlier incarnation (or an empty one the engine made
   * on seeing the membership): it is replaced, so old items never show up in the new keygroup.
   */
  const createLocalCopy = async (info: LocalKeygroup) => {
    try {
      await store.createKeygroup(info);
    } catch (error) {
      if ((error as StoreError).code !== 'ERR_KEYGROUP_EXISTS') throw error;
      // The usual case: the engine saw the new membership first and made the copy. Kept as is.
      const existing = await store.getKeygroup(info.name);
      if (existing && existing.mutable === info.mutable && existing.expiry === info.expiry && (await isEmpty(info.name))) return;
      logger.warn({ keygroup: info.name }, 'replacing a stale local copy of a newly created keygroup');
      await store.deleteKeygroup(info.name);
      await store.createKeygroup(info);
    }
  };

  const isEmpty = async (keygroup: string) => {
    for await (const _ of store.dump(keygroup)) return false;
    return true;
  };

  const CreateKeygroup: Handler<WireCreateKeygroup> = async (wire, user) => {
    const { keygroup, mutable, expiry } = parseCreateKeygroup(wire);
    // The creator gets every role in the same atomic naming write (FReD grants them all).
    await naming.createKeygroup({ name: keygroup, mutable, expiry, node: nodeId, owner: user });
    try {
      await createLocalCopy({ name: keygroup, mutable, expiry });
    } catch (error) {
      // Without a local copy the keygroup would exist with a replica that holds nothing: undo.
      await bestEffort(ctx, 'could not undo a keygroup creation', { keygroup }, () => naming.deleteKeygroup(keygroup));
      throw error;
    }
    // Triggers are per node and per incarnation: an earlier keygroup's triggers must not fire.
    await bestEffort(ctx, 'could not drop stale triggers', { keygroup }, () => ctx.triggers.removeKeygroup(keygroup));
    logger.debug({ keygroup, user, mutable, expiry }, 'keygroup created');
    return {};
  };

  const DeleteKeygroup: Handler<WireKeygroupOnly> = async (wire, user) => {
    const { keygroup } = parseKeygroup(wire);
    const info = await ctx.access.authorize(user, keygroup, 'DeleteKeygroup');
    await naming.deleteKeygroup(keygroup);
    const others = info.replicas.map((r) => r.node).filter((node) => node !== nodeId);
    if (replication.dropReplica) {
      await Promise.all(
        others.map((node) =>
          bestEffort(ctx, 'could not tell a replica to drop a deleted keygroup', { keygroup, peer: node }, () =>
            replication.dropReplica!(keygroup, node),
          ),
        ),
      );
    }
    if (await store.getKeygroup(keygroup)) {
      await bestEffort(ctx, 'could not drop the local copy of a deleted keygroup', { keygroup }, () =>
        replication.leaveKeygroup(keygroup),
      );
    }
    await bestEffort(ctx, 'could not drop the triggers of a deleted keygroup', { keygroup }, () => ctx.triggers.removeKeygroup(keygroup));
    logger.debug({ keygroup, user }, 'keygroup deleted');
    return {};
  };

  /**
   * Adds a replica or changes its expiry; may be called on any node (FReD: on a member or on the
   * new node). When this node is the new replica, the call returns once its copy is filled.
   */
  const AddReplica: Handler<WireAddReplica> = async (wire, user) => {
    const { keygroup, node, expiry } = parseAddReplica(wire);
    const info = await ctx.access.authorize(user, keygroup, 'AddReplica');
    const wasMember = info.replicas.some((r) => r.node === node);
    await naming.addReplica(keygroup, node, expiry);
    if (node === nodeId) {
      if (!wasMember) {
        await bestEffort(ctx, 'could not drop stale triggers', { keygroup }, () => ctx.triggers.removeKeygroup(keygroup));
      }
      // Errors reach the client: the membership stands and AddReplica can simply be retried.
      await replication.joinKeygroup(keygroup, expiry);
    } else if (replication.inviteReplica) {
      await bestEffort(ctx, 'could not tell the new replica about its keygroup', { keygroup, peer: node }, () =>
        replication.inviteReplica!(keygroup, node, expiry),
      );
    }
    logger.debug({ keygroup, node, expiry, user }, 'replica added');
    return {};
  };

  /** The naming service refuses to remove the last member: delete the keygroup instead. */
  const RemoveReplica: Handler<WireRemoveReplica> = async (wire, user) => {
    const { keygroup, node } = parseRemoveReplica(wire);
    await ctx.access.authorize(user, keygroup, 'RemoveReplica');
    await naming.removeReplica(keygroup, node);
    if (node === nodeId) {
      await bestEffort(ctx, 'could not drop the local copy of a left keygroup', { keygroup }, () => replication.leaveKeygroup(keygroup));
      await bestEffort(ctx, 'could not drop the triggers of a left keygroup', { keygroup }, () => ctx.triggers.removeKeygroup(keygroup));
    } else if (replication.dropReplica) {
      await bestEffort(ctx, 'could not tell a removed replica to drop its copy', { keygroup, peer: node }, () =>
        replication.dropReplica!(keygroup, node),
      );
    }
    logger.debug({ keygroup, node, user }, 'replica removed');
    return {};
  };

  const GetKeygroupInfo: Handler<WireKeygroupOnly> = async (wire, user) => {
    const { keygroup } = parseKeygroup(wire);
    const info = await ctx.access.authorize(user, keygroup, 'GetKeygroupInfo');
    const nodes = await Promise.all(info.replicas.map((r) => naming.getNode(r.node)));
    return {
      mutable: info.mutable,
      // A member whose addresses are not (or no longer) registered is still listed, without a host.
      replica: info.replicas.map((r, i) => ({ nodeId: r.node, expiry: String(r.expiry), host: nodes[i]?.extAddress ?? '' })),
    };
  };

  // GetReplica and GetAllReplica concern no keygroup, so FReD checks no role: any authenticated user.
  const GetReplica: Handler<WireGetReplica> = async (wire) => {
    const { node } = parseGetReplica(wire);
    const record = await naming.getNode(node);
    if (!record) throw new NamingError('ERR_NODE_NOT_FOUND', `node ${node} is not registered`);
    return { nodeId: record.id, host: record.extAddress };
  };

  const GetAllReplica: Handler<Record<string, never>> = async () => ({
    replicas: (await naming.listNodes()).map((n) => ({ nodeId: n.id, host: n.extAddress })),
  });

  return {
    CreateKeygroup,
    DeleteKeygroup,
    AddReplica,
    RemoveReplica,
    GetKeygroupInfo,
    GetReplica,
    GetAllReplica,
  } as Record<string, Handler<never>>;
}

// Trigger and user RPCs of FReD's client API: GetKeygroupTriggers, AddTrigger, RemoveTrigger,
// AddUser, RemoveUser.
import { ClientApiError } from './errors.js';
import type { Handler, RpcContext } from './context.js';
import {
  parseAddTrigger,
  parseKeygroup,
  parseRemoveTrigger,
  parseUser,
  type WireAddTrigger,
  type WireKeygroupOnly,
  type WireRemoveTrigger,
  type WireUser,
} from './requests.js';

export function createTriggerUserRpcs(ctx: RpcContext): Record<string, Handler<never>> {
  const { access, triggers, naming, logger } = ctx;

  // Triggers live on the node that received AddTrigger (FReD), so each node answers for its own.
  const GetKeygroupTriggers: Handler<WireKeygroupOnly> = async (wire, user) => {
    const { keygroup } = parseKeygroup(wire);
    await access.authorize(user, keygroup, 'GetKeygroupTriggers');
    return { triggers: (await triggers.list(keygroup)).map((t) => ({ id: t.id, host: t.host })) };
  };

  const AddTrigger: Handler<WireAddTrigger> = async (wire, user) => {
    const { keygroup, triggerId, host } = parseAddTrigger(wire);
    // Only a replica sees the keygroup's writes; a trigger anywhere else would never fire.
    await access.local(await access.authorize(user, keygroup, 'AddTrigger'));
    await triggers.add(keygroup, { id: triggerId, host });
    logger.debug({ keygroup, trigger: triggerId, host, user }, 'trigger added');
    return {};
  };

  // No replica check: a node that left a keygroup may still be asked to forget its triggers.
  const RemoveTrigger: Handler<WireRemoveTrigger> = async (wire, user) => {
    const { keygroup, triggerId } = parseRemoveTrigger(wire);
    await access.authorize(user, keygroup, 'RemoveTrigger');
    if (!(await triggers.remove(keygroup, triggerId))) {
      throw new ClientApiError('ERR_TRIGGER_NOT_FOUND', `keygroup ${keygroup} has no trigger ${triggerId} on this node`);
    }
    logger.debug({ keygroup, trigger: triggerId, user }, 'trigger removed');
    return {};
  };

  // Grants live in the naming service, which every node reads on every call: they apply at once.
  const AddUser: Handler<WireUser> = async (wire, user) => {
    const req = parseUser(wire);
    await access.authorize(user, req.keygroup, 'AddUser');
    await naming.grantRole(req.user, req.keygroup, req.role);
    logger.debug({ keygroup: req.keygroup, grantee: req.user, role: req.role, user }, 'role granted');
    return {};
  };

  const RemoveUser: Handler<WireUser> = async (wire, user) => {
    const req = parseUser(wire);
    await access.authorize(user, req.keygroup, 'RemoveUser');
    await naming.revokeRole(req.user, req.keygroup, req.role);
    logger.debug({ keygroup: req.keygroup, grantee: req.user, role: req.role, user }, 'role revoked');
    return {};
  };

  return { GetKeygroupTriggers, AddTrigger, RemoveTrigger, AddUser, RemoveUser } as Record<string, Handler<never>>;
}

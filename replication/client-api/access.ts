// Who may do what: the caller's identity, keygroup existence, FReD's role checks and whether this
// node holds the keygroup. Every RPC handler goes through here before touching data.
import type * as grpc from '@grpc/grpc-js';
import { CALL_PERMISSION, ROLE_METHODS, ROLES, type KeygroupInfo, type Method, type NamingService } from '../naming/port.js';
import { StoreError, type KeygroupInfo as LocalKeygroup, type ReplicaStore } from '../store/port.js';
import type { UserOf } from './deps.js';
import { ClientApiError } from './errors.js';

/** Client-API calls that FReD checks against a keygroup permission. */
export type CheckedCall = keyof typeof CALL_PERMISSION;

export class Access {
  constructor(
    private readonly nodeId: string,
    private readonly store: ReplicaStore,
    private readonly naming: NamingService,
    private readonly userOf: UserOf,
  ) {}

  /** The authenticated user of a call. Every call needs one: even node lists are not public. */
  user(call: grpc.ServerUnaryCall<unknown, unknown>): string {
    const user = this.userOf(call);
    if (typeof user !== 'string' || user === '') {
      throw new ClientApiError('ERR_UNAUTHENTICATED', 'no authenticated user: the client certificate names none');
    }
    return user;
  }

  /**
   * The keygroup as the naming service knows it, if `user` may make `call` on it. Existence is
   * checked first for a clearer error: names are cluster-global and CreateKeygroup reveals them
   * anyway. Permissions are read from the naming service on every call, so a grant or a
   * revocation takes effect with the next call.
   */
  async authorize(user: string, keygroup: string, call: CheckedCall): Promise<KeygroupInfo> {
    const info = await this.naming.getKeygroup(keygroup);
    if (!info) throw new StoreError('ERR_KEYGROUP_NOT_FOUND', `keygroup ${keygroup} does not exist`);
    const method = CALL_PERMISSION[call];
    if (!(await this.naming.isAllowed(user, keygroup, method))) {
      throw new ClientApiError(
        'ERR_PERMISSION_DENIED',
        `user ${user} may not call ${call} on keygroup ${keygroup}: that needs the ${roleGranting(method)} role`,
      );
    }
    return info;
  }

  /**
   * This node's copy of a keygroup. Data calls are served only by current replicas: a node that
   * was removed (and may still hold an old copy) or has not finished joining must not answer.
   */
  async local(info: KeygroupInfo): Promise<LocalKeygroup> {
    const member = info.replicas.some((r) => r.node === this.nodeId);
    const local = member ? await this.store.getKeygroup(info.name) : undefined;
    if (!local) {
      const replicas = info.replicas.map((r) => r.node).join(', ') || 'none';
      throw new ClientApiError(
        'ERR_NOT_A_REPLICA',
        member
          ? `node ${this.nodeId} is joining keygroup ${info.name} and holds no copy yet; retry or use another replica (${replicas})`
          : `node ${this.nodeId} is not a replica of keygroup ${info.name}; its replicas are: ${replicas}`,
      );
    }
    return local;
  }
}

/** The role whose methods include `method` (each method belongs to exactly one role). */
function roleGranting(method: Method): string {
  return ROLES.find((role) => ROLE_METHODS[role].includes(method)) ?? method;
}

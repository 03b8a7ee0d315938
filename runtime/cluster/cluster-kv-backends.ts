// Where a cluster node's function finds its keygroup: in the local replica, or (deployed with
// kvNode) on that node, reached over FReD's client API through one reused channel.

import type { NamingService } from '../../replication/naming/port.js';
import type { KeygroupInfo } from '../../replication/store/port.js';
import { EnokiError } from '../errors.js';
import type { KvBackends, OpenedKv } from '../kv/kv-backend.js';
import { RemoteKvBackend } from '../kv/remote-kv-backend.js';
import { GrpcRemoteReplica } from './grpc-remote-replica.js';
import type { RemoteNodes } from './remote-nodes.js';

export class ClusterKvBackends implements KvBackends {
  readonly #remote = new Map<string, RemoteKvBackend>();

  constructor(
    private readonly options: { nodeId: string; naming: NamingService; local: KvBackends; remotes: RemoteNodes },
  ) {}

  open(fn: { keygroup: string; kvNode?: string }): OpenedKv | Promise<OpenedKv> {
    const { nodeId, local } = this.options;
    if (fn.kvNode === undefined || fn.kvNode === nodeId) return local.open(fn);
    return this.#openRemote(fn.kvNode, fn.keygroup);
  }

  async #openRemote(node: string, keygroupName: string): Promise<OpenedKv> {
    const { naming, remotes } = this.options;
    // The naming service is read from a watched cache: no wide-area round trip per invocation.
    const info = await naming.getKeygroup(keygroupName);
    if (!info) throw new EnokiError('ERR_KEYGROUP_NOT_FOUND', `keygroup ${keygroupName} does not exist in the cluster`);
    let backend = this.#remote.get(node);
    if (!backend) {
      backend = new RemoteKvBackend(new GrpcRemoteReplica(node, () => remotes.client(node)));
      this.#remote.set(node, backend);
    }
    return { backend, keygroup: { name: info.name, mutable: info.mutable, expiry: 0 } };
  }
}

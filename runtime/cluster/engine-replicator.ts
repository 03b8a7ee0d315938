// Committed invocation writes go to the replication engine; in 'sync' mode (FReD's default) the
// response waits until every reachable replica has them (bounded by the engine's sync timeout).

import type { ReplicationEngine, ReplicationMode } from '../../replication/engine/engine.js';
import type { AppliedWrite } from '../../replication/store/port.js';
import type { WriteReplicator } from '../kv/keygroups.js';

export class EngineReplicator implements WriteReplicator {
  constructor(
    private readonly engine: ReplicationEngine,
    private readonly mode: ReplicationMode,
  ) {}

  async replicate(applied: AppliedWrite[]): Promise<void> {
    await this.engine.replicateLocal(applied, this.mode);
  }
}

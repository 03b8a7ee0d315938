// Runs the ReplicaStore conformance suite against MemoryReplicaStore.
import { MemoryReplicaStore } from '../../../replication/store/memory-store.js';
import { runStoreConformance } from './conformance.js';

runStoreConformance('MemoryReplicaStore', async ({ nodeId, clock }) => {
  const store = new MemoryReplicaStore({ nodeId, clock });
  await store.open();
  return {
    store,
    // The memory store keeps its data across close()/open() of the same instance.
    reopen: async () => {
      await store.close();
      await store.open();
      return store;
    },
    cleanup: () => store.close(),
  };
});

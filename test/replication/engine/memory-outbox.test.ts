// Runs the Outbox conformance suite against MemoryOutbox.
import { MemoryOutbox } from '../../../replication/engine/outbox.js';
import { runOutboxConformance } from './outbox-conformance.js';

runOutboxConformance('MemoryOutbox', async () => {
  const outbox = new MemoryOutbox();
  await outbox.open();
  return {
    outbox,
    // The memory outbox keeps its data across close()/open() of the same instance.
    reopen: async () => {
      await outbox.close();
      await outbox.open();
      return outbox;
    },
    cleanup: () => outbox.close(),
  };
});

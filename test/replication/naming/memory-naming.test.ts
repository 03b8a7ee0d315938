// Runs the NamingService conformance suite against MemoryNaming.
import { MemoryNaming } from '../../../replication/naming/memory-naming.js';
import { runNamingConformance } from './conformance.js';

runNamingConformance('MemoryNaming', async () => {
  const naming = new MemoryNaming();
  await naming.start();
  return {
    naming,
    peer: naming, // one process, one image: "another node" is the same instance
    raw: async () => naming.snapshot(),
    cleanup: () => naming.close(),
  };
});

// FReD's own end-to-end suite (tests/3NodeTest) against mixed clusters, in the node orders that
// used to fail (efe, eff: Enoki nodes adding and removing FReD replicas). Each run takes about
// 70 s; every order, eee and fff included, is run by `npm run test:fred-orders` (README).
import { suite } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { obtainFred, type FredAvailability } from './fred-binaries.js';
import { describeResult, runThreeNodeTest } from './three-node-test.js';

const test = suite("interop: FReD's 3NodeTest suite on mixed clusters");
const REDUCED_ORDERS = ['efe', 'eff'];

let fred: FredAvailability | undefined;
let buildError: unknown;
try {
  fred = obtainFred();
} catch (error) {
  buildError = error;
}

if (buildError !== undefined) {
  test('FReD builds from its source snapshots', () => {
    throw buildError;
  });
} else if (fred && 'unavailable' in fred) {
  // Without FReD's build script there is no FReD to run the suite with: say so, do not pass.
  test.skip("FReD's 3NodeTest on mixed clusters", () => undefined);
  process.stdout.write(`\nSKIPPED: FReD's 3NodeTest — ${fred.unavailable}\n`);
} else if (fred) {
  const binaries = fred.binaries;
  for (const order of REDUCED_ORDERS) {
    test(`order ${order} (nodeA, nodeB, nodeC; e = Enoki, f = FReD): 0 errors`, async () => {
      const result = await runThreeNodeTest(binaries, order);
      process.stdout.write(`\n  ${describeResult(result)}\n`);
      assert.is(result.errors, 0, `${describeResult(result)}\n${result.failures.join('\n')}`);
    });
  }
}

test.run();

// `npm run test:fred-orders`: FReD's own 3NodeTest suite against every order of Enoki (e) and
// FReD (f) nodes — eee, fff and the six mixed orders — one line per order with its error count.
// Exits non-zero unless every order has 0 errors. Takes about 70 s per order; name orders as
// arguments to run only those (e.g. `npm run test:fred-orders -- efe eff`).
//   --fred-certs   use certificates in FReD's own format (openssl, as its gen-certs.sh) for all
//   --keep-logs DIR  keep each run's 3NodeTest output and node logs in DIR

import fs from 'node:fs';
import path from 'node:path';
import { obtainFred } from './fred-binaries.js';
import { describeResult, runThreeNodeTest } from './three-node-test.js';

export const ALL_ORDERS = ['eee', 'fff', 'eef', 'efe', 'fee', 'eff', 'fef', 'ffe'];

async function main(argv: string[]): Promise<number> {
  const fredCerts = argv.includes('--fred-certs');
  const keepAt = argv.indexOf('--keep-logs');
  const keepDir = keepAt >= 0 ? argv[keepAt + 1] : undefined;
  // Orders are the arguments of three e/f letters, except the directory after --keep-logs.
  const orders = argv.filter((a, i) => /^[ef]{3}$/.test(a) && (keepAt < 0 || i !== keepAt + 1));
  const fred = obtainFred();
  if ('unavailable' in fred) {
    process.stdout.write(`FReD is unavailable: ${fred.unavailable}\n`);
    return 2;
  }
  if (keepDir) fs.mkdirSync(keepDir, { recursive: true });
  let failed = 0;
  for (const order of orders.length > 0 ? orders : ALL_ORDERS) {
    const result = await runThreeNodeTest(fred.binaries, order, {
      certificates: fredCerts ? 'fred' : 'enoki',
      keepLog: keepDir ? path.join(keepDir, `${order}.log`) : undefined,
    });
    process.stdout.write(`${describeResult(result)}\n`);
    for (const line of result.failures) process.stdout.write(`    ${line}\n`);
    if (result.errors !== 0) failed++;
  }
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? error}\n`);
    process.exit(2);
  },
);

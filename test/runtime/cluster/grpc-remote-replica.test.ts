// A remote replica reached over FReD's client API reads "not found" as FReD and Enoki say it: an
// Enoki node answers NOT_FOUND, a FReD node (v0.2.19) UNKNOWN with a message, for Read, Delete and
// a Scan whose start is missing. Every other failure is `unavailable` for the guest.
import * as grpc from '@grpc/grpc-js';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import type { GrpcClientApiClient } from '../../../replication/client-api/grpc-client.js';
import { GrpcCallError } from '../../../replication/grpc/call.js';
import { GrpcRemoteReplica } from '../../../runtime/cluster/grpc-remote-replica.js';
import { KvFault } from '../../../runtime/kv/invocation-kv.js';

const failing = (code: grpc.status, details: string) => async () => {
  throw new GrpcCallError(code, '127.0.0.1:1', '/mcc.fred.client.Client/X', details);
};

/** A client whose every call fails with `code` and `details`, as the server sent them. */
function replicaAnswering(code: grpc.status, details: string): GrpcRemoteReplica {
  const fail = failing(code, details);
  const client = { read: fail, scan: fail, update: fail, delete: fail, append: fail } as unknown as GrpcClientApiClient;
  return new GrpcRemoteReplica('nodeB', async () => client);
}

async function fault(action: () => Promise<unknown>): Promise<KvFault> {
  try {
    await action();
  } catch (error) {
    assert.instance(error, KvFault);
    return error as KvFault;
  }
  return assert.unreachable('expected a kv fault') as never;
}

test("FReD's UNKNOWN 'not found' answers mean absent, as Enoki's NOT_FOUND does", async () => {
  // Read: FReD's ExtHandler "item %s not found in keygroup %s".
  assert.equal(await replicaAnswering(grpc.status.UNKNOWN, 'item count not found in keygroup tally').read('tally', 'count'), []);
  assert.equal(await replicaAnswering(grpc.status.NOT_FOUND, 'item count not found in keygroup tally').read('tally', 'count'), []);
  // Delete of an item already gone is the state asked for.
  await replicaAnswering(grpc.status.UNKNOWN, 'item does not exist so it cannot be deleted').delete('tally', 'count');
  // A scan from a missing start is not-found (the backend then shows only the invocation's items).
  const scan = await fault(() => replicaAnswering(grpc.status.UNKNOWN, 'error scanning 10 items starting at x from keygroup tally').scan('tally', 'x', 10));
  assert.is(scan.tag, 'not-found');
});

test('any other failure, UNKNOWN ones included, is unavailable and names the node', async () => {
  const other = await fault(() => replicaAnswering(grpc.status.UNKNOWN, 'user nodeA cannot read from keygroup tally').read('tally', 'count'));
  assert.is(other.tag, 'unavailable');
  assert.match(other.message, /nodeB/);
  const down = await fault(() => replicaAnswering(grpc.status.UNAVAILABLE, 'connection refused').read('tally', 'count'));
  assert.is(down.tag, 'unavailable');
  // Not every UNKNOWN mentioning "not found" is an absent item: only FReD's exact messages are.
  const odd = await fault(() => replicaAnswering(grpc.status.UNKNOWN, 'keygroup not found somewhere').update('tally', 'count', 'v'));
  assert.is(odd.tag, 'unavailable');
});

test.run();

// The one unary call helper of Enoki's gRPC clients: a client's deadline and metadata apply to
// each call unless the call brings its own, and failures carry the status and the address.
import * as grpc from '@grpc/grpc-js';
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { UnaryCaller } from '../../../replication/grpc/call.js';
import { peeringService, type WireDataResponse } from '../../../replication/grpc/protos.js';
import { rejectsWith, startServer } from './helpers.js';

const insecure = () => grpc.credentials.createInsecure();

test('per-call deadline and metadata override the client\'s', async () => {
  // GetItem answers with the caller's x-who header as the item id; GetAllItems never answers.
  const server = await startServer([[peeringService, {
    GetItem: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { data: [{ id: String(call.metadata.get('x-who')[0] ?? 'nobody'), val: 'v', version: {} }] }),
    GetAllItems: () => {},
  }]]);
  const who = (name: string) => {
    const metadata = new grpc.Metadata();
    metadata.set('x-who', name);
    return metadata;
  };
  const caller = new UnaryCaller(server.address, insecure(), { deadlineMs: 10_000, metadata: who('client') });
  const idOf = async (metadata?: grpc.Metadata) =>
    ((await caller.call(peeringService.GetItem!, { keygroup: 'kv', id: 'a' }, { metadata })) as WireDataResponse).data[0]?.id;
  try {
    assert.is(await idOf(), 'client');
    assert.is(await idOf(who('call')), 'call');
    assert.is(await idOf(), 'client', 'the client\'s metadata is unchanged by calls');
    const started = Date.now();
    await rejectsWith(() => caller.call(peeringService.GetAllItems!, { keygroup: 'kv' }, { deadlineMs: 100 }), grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 5_000, 'the call\'s 100 ms, not the client\'s 10 s');
  } finally {
    caller.close();
    server.stop();
  }
});

test('an unreachable peer fails with UNAVAILABLE and its address', async () => {
  // Bind and stop a server so the port is known to be closed.
  const server = await startServer([]);
  server.stop();
  const caller = new UnaryCaller(server.address, insecure(), { deadlineMs: 2000 });
  try {
    const error = await rejectsWith(() => caller.call(peeringService.GetAllItems!, { keygroup: 'kv' }), grpc.status.UNAVAILABLE);
    assert.match(error.message, server.address);
  } finally {
    caller.close();
  }
});

test.run();

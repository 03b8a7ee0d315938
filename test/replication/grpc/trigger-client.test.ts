// GrpcTriggerClient against a small TriggerNode server: puts and deletes arrive as FReD sends
// them, and failures carry the status and the trigger's address.
import * as grpc from '@grpc/grpc-js';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { triggerService } from '../../../replication/grpc/protos.js';
import { GrpcTriggerClient } from '../../../replication/grpc/trigger-client.js';
import { rejectsWith, startServer, type TestServer } from './helpers.js';

interface Ctx {
  server: TestServer;
  client: GrpcTriggerClient;
  received: Array<[string, unknown]>;
}

const test = suite<Ctx>('grpc: trigger client');

test.before(async (ctx) => {
  ctx.received = [];
  const implementation: grpc.UntypedServiceImplementation = {
    PutItemTrigger: (call: grpc.ServerUnaryCall<{ id: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      ctx.received.push(['put', call.request]);
      if (call.request.id === 'refused') callback({ code: grpc.status.PERMISSION_DENIED, details: 'not for you' });
      else callback(null, {});
    },
    DeleteItemTrigger: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      ctx.received.push(['delete', call.request]);
      callback(null, {});
    },
  };
  ctx.server = await startServer([[triggerService, implementation]]);
  ctx.client = new GrpcTriggerClient(ctx.server.address, grpc.credentials.createInsecure(), { deadlineMs: 2000 });
});

test.after(({ server, client }) => {
  client.close();
  server.stop();
});

test('puts and deletes reach the trigger node', async ({ client, received }) => {
  await client.putItemTrigger({ keygroup: 'kv', id: 'a', value: 'v' });
  await client.deleteItemTrigger({ keygroup: 'kv', id: 'a' });
  assert.equal(received, [
    ['put', { keygroup: 'kv', id: 'a', val: 'v' }],
    ['delete', { keygroup: 'kv', id: 'a' }],
  ]);
});

test('a refusal carries the status, the message and the trigger address', async ({ client, server }) => {
  const error = await rejectsWith(
    () => client.putItemTrigger({ keygroup: 'kv', id: 'refused', value: 'v' }),
    grpc.status.PERMISSION_DENIED,
    /not for you/,
  );
  assert.is(error.address, server.address);
  assert.is(error.method, '/mcc.fred.trigger.TriggerNode/PutItemTrigger');
});

test('a deadline is rejected when it is not positive', () => {
  assert.throws(() => new GrpcTriggerClient('127.0.0.1:1', grpc.credentials.createInsecure(), { deadlineMs: 0 }), /deadlineMs/);
});

test.run();

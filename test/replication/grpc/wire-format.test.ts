// Wire compatibility with FReD: the loaded protos encode the field numbers and types of the FReD
// contract byte for byte, 64-bit integers survive exactly, and the .proto files are found from
// both the source and the dist layout.
import { fileURLToPath } from 'node:url';
import { suite } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import {
  clientService,
  findProtoDir,
  peeringService,
  triggerService,
  UserRole,
} from '../../../replication/grpc/protos.js';
import { nonNegativeInt64FromWire, uint64FromWire, versionFromWire, versionToWire } from '../../../replication/grpc/wire.js';

const test = suite('grpc: wire format');

/** Bytes written as protobuf would: numbers are bytes, strings are their UTF-8. */
function bytes(...parts: Array<number | string>): string {
  return Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : Buffer.from(p, 'utf8')))).toString('hex');
}

const encode = (method: { requestSerialize: (value: never) => Buffer }, message: object) =>
  method.requestSerialize(message as never).toString('hex');
const encodeResponse = (method: { responseSerialize: (value: never) => Buffer }, message: object) =>
  method.responseSerialize(message as never).toString('hex');

test('method paths and the methods of each service are FReD\'s', () => {
  assert.equal(Object.keys(clientService).sort(), [
    'AddReplica', 'AddTrigger', 'AddUser', 'Append', 'CreateKeygroup', 'Delete', 'DeleteKeygroup', 'GetAllReplica',
    'GetKeygroupInfo', 'GetKeygroupTriggers', 'GetReplica', 'Keys', 'Read', 'RemoveReplica', 'RemoveTrigger',
    'RemoveUser', 'Scan', 'Update',
  ]);
  assert.is(clientService.Read!.path, '/mcc.fred.client.Client/Read');
  assert.equal(Object.keys(peeringService).sort(), ['AppendItem', 'CreateKeygroup', 'DeleteKeygroup', 'GetAllItems', 'GetItem', 'PutItem']);
  assert.is(peeringService.PutItem!.path, '/mcc.fred.peering.Node/PutItem');
  assert.equal(Object.keys(triggerService).sort(), ['DeleteItemTrigger', 'PutItemTrigger']);
  assert.is(triggerService.PutItemTrigger!.path, '/mcc.fred.trigger.TriggerNode/PutItemTrigger');
});

test('peering PutItemRequest: fields 1-5 with map<string,uint64> entries', () => {
  assert.is(
    encode(peeringService.PutItem!, { keygroup: 'kg', id: 'a', val: 'v', tombstoned: true, version: { n1: 3 } }),
    // 1:string, 2:string, 3:string, 4:bool varint, 5: map entry {1:key, 2:uint64 varint}
    bytes(0x0a, 2, 'kg', 0x12, 1, 'a', 0x1a, 1, 'v', 0x20, 1, 0x2a, 6, 0x0a, 2, 'n1', 0x10, 3),
  );
  // The largest uint64 is a 10-byte varint; as a decimal string it goes out exactly.
  assert.is(
    encode(peeringService.PutItem!, { keygroup: 'kg', version: { n1: '18446744073709551615' } }),
    bytes(0x0a, 2, 'kg', 0x2a, 15, 0x0a, 2, 'n1', 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
  );
});

test('decoding what a Go encoder sends: defaults filled in, uint64 exact, unknown fields skipped', () => {
  // Go omits default fields; field 9 (varint 7) is unknown to us and must be ignored.
  const wire = Buffer.from(bytes(0x0a, 2, 'kg', 0x48, 7, 0x2a, 15, 0x0a, 2, 'n1', 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 'hex');
  assert.equal(peeringService.PutItem!.requestDeserialize(wire), {
    keygroup: 'kg', id: '', val: '', tombstoned: false, version: { n1: '18446744073709551615' },
  });
});

test('other peering messages', () => {
  assert.is(encode(peeringService.CreateKeygroup!, { keygroup: 'kg', expiry: 30 }), bytes(0x0a, 2, 'kg', 0x10, 30));
  assert.is(encode(peeringService.AppendItem!, { keygroup: 'kg', id: '7', data: 'x' }), bytes(0x0a, 2, 'kg', 0x12, 1, '7', 0x1a, 1, 'x'));
  assert.is(encode(peeringService.GetItem!, { keygroup: 'kg', id: 'a' }), bytes(0x0a, 2, 'kg', 0x12, 1, 'a'));
  assert.is(encode(peeringService.GetAllItems!, { keygroup: 'kg' }), bytes(0x0a, 2, 'kg'));
  // GetItemResponse{ repeated Data data[1] }, Data{ id[1]; val[2]; map version[3] }
  assert.is(
    encodeResponse(peeringService.GetAllItems!, { data: [{ id: 'a', val: 'v', version: { n: 1 } }] }),
    bytes(0x0a, 13, 0x0a, 1, 'a', 0x12, 1, 'v', 0x1a, 5, 0x0a, 1, 'n', 0x10, 1),
  );
});

test('client messages: nested Version, uint64 id, int64 expiry, UserRole enum', () => {
  assert.is(
    encode(clientService.CreateKeygroup!, { keygroup: 'kg', mutable: true, expiry: 5 }),
    bytes(0x0a, 2, 'kg', 0x10, 1, 0x18, 5),
  );
  // UpdateRequest{ keygroup[1]; id[2]; data[3]; repeated Version versions[4] }, Version{ map version[1] }
  assert.is(
    encode(clientService.Update!, { keygroup: 'kg', id: 'a', data: 'd', versions: [{ version: { n: 2 } }] }),
    bytes(0x0a, 2, 'kg', 0x12, 1, 'a', 0x1a, 1, 'd', 0x22, 7, 0x0a, 5, 0x0a, 1, 'n', 0x10, 2),
  );
  assert.is(encode(clientService.Append!, { keygroup: 'kg', id: '300', data: 'd' }), bytes(0x0a, 2, 'kg', 0x10, 0xac, 0x02, 0x1a, 1, 'd'));
  // A negative int64 is a 10-byte two's complement varint.
  assert.is(
    encode(clientService.AddReplica!, { keygroup: 'kg', nodeId: 'n', expiry: -1 }),
    bytes(0x0a, 2, 'kg', 0x12, 1, 'n', 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
  );
  assert.is(
    encode(clientService.AddUser!, { user: 'u', keygroup: 'kg', role: UserRole.ConfigureKeygroups }),
    bytes(0x0a, 1, 'u', 0x12, 2, 'kg', 0x18, 4),
  );
  assert.is(encode(clientService.AddTrigger!, { keygroup: 'kg', triggerId: 't', triggerHost: 'h' }), bytes(0x0a, 2, 'kg', 0x12, 1, 't', 0x1a, 1, 'h'));
  // GetKeygroupInfoResponse{ bool mutable[1]; repeated KeygroupReplica replica[2] }, KeygroupReplica{ nodeId[1]; expiry[2]; host[3] }
  assert.is(
    encodeResponse(clientService.GetKeygroupInfo!, { mutable: true, replica: [{ nodeId: 'n', expiry: 9, host: 'h' }] }),
    bytes(0x08, 1, 0x12, 8, 0x0a, 1, 'n', 0x10, 9, 0x1a, 1, 'h'),
  );
  assert.equal(clientService.AddUser!.requestDeserialize(Buffer.from(bytes(0x18, 2), 'hex')), { user: '', keygroup: '', role: UserRole.ConfigureReplica });
  assert.equal(clientService.Scan!.requestDeserialize(Buffer.from(bytes(0x18, 0xac, 0x02), 'hex')), { keygroup: '', id: '', count: '300' });
});

test('trigger messages', () => {
  assert.is(encode(triggerService.PutItemTrigger!, { keygroup: 'kg', id: 'a', val: 'v' }), bytes(0x0a, 2, 'kg', 0x12, 1, 'a', 0x1a, 1, 'v'));
  assert.is(encode(triggerService.DeleteItemTrigger!, { keygroup: 'kg', id: 'a' }), bytes(0x0a, 2, 'kg', 0x12, 1, 'a'));
});

test('versions convert exactly or not at all', () => {
  assert.equal(versionToWire({ a: 1, b: Number.MAX_SAFE_INTEGER }), { a: '1', b: '9007199254740991' });
  assert.equal(versionFromWire({ a: '1', b: '9007199254740991' }), { a: 1, b: Number.MAX_SAFE_INTEGER });
  assert.throws(() => versionFromWire({ a: '9007199254740992' }), /above 9007199254740991/);
  assert.throws(() => versionFromWire({ 'a:b': '1' }), /invalid version entry/);
  assert.throws(() => versionToWire({ a: 1.5 }), /invalid version entry/);
  assert.throws(() => uint64FromWire('-1', 'count'), /invalid count/);
  assert.is(nonNegativeInt64FromWire('0', 'expiry'), 0);
  assert.throws(() => nonNegativeInt64FromWire('-5', 'expiry'), /negative/);
});

test('the .proto files are found from the source and from the dist layout', () => {
  const repo = new URL('../../../../', import.meta.url);
  const protoDir = fileURLToPath(new URL('replication/proto/', repo));
  assert.is(findProtoDir(new URL('replication/grpc/protos.ts', repo)), protoDir);
  assert.is(findProtoDir(new URL('dist/replication/grpc/protos.js', repo)), protoDir);
  assert.throws(() => findProtoDir(new URL('elsewhere/protos.js', repo)), /not found/);
});

test.run();

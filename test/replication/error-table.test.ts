// The one error table: every code has an HTTP status, a gRPC status and a blame; the HTTP and
// gRPC servers answer from it, so one code means the same on both.
import * as grpc from '@grpc/grpc-js';
import { test } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { grpcStatusOf } from '../../replication/grpc/status.js';
import { ERROR_TABLE } from '../../replication/support/error-table.js';
import { EnokiError } from '../../runtime/errors.js';

test('every code has an HTTP status, a gRPC status and a blame', () => {
  for (const [code, entry] of Object.entries(ERROR_TABLE)) {
    assert.ok(entry.http >= 400 && entry.http <= 599, `${code}: http ${entry.http}`);
    assert.ok(Object.values(grpc.status).includes(entry.grpc) && entry.grpc !== grpc.status.OK, `${code}: grpc ${entry.grpc}`);
    assert.ok(['client', 'guest', 'host', 'peer'].includes(entry.blame), `${code}: blame ${entry.blame}`);
  }
});

test('an error answers the same code over HTTP and gRPC, with its blame', () => {
  const err = new EnokiError('ERR_KEYGROUP_NOT_FOUND', 'no such keygroup');
  assert.is(err.status, 404);
  assert.is(grpcStatusOf(err), grpc.status.NOT_FOUND);
  assert.equal(err.toJSON().error, { code: 'ERR_KEYGROUP_NOT_FOUND', message: 'no such keygroup', blame: 'client' });
  assert.is(new EnokiError('ERR_WORKER_CRASHED', 'x').blame, 'host');
  assert.is(grpcStatusOf({ code: 'NOT_A_CODE' }), grpc.status.INTERNAL, 'unknown codes are internal');
});

test.run();

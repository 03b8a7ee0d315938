// loadConfig: defaults, then environment variables, then explicit overrides; bad values are
// refused naming the variable.
import path from 'node:path';
import { test } from '../helpers/suite.js';
import * as assert from 'uvu/assert';
import { DEFAULTS, instanceBudgetMiB, loadConfig } from '../../runtime/config.js';
import { EnokiError } from '../../runtime/errors.js';

function invalid(env: NodeJS.ProcessEnv, mentions: string): void {
  try {
    loadConfig({}, env);
  } catch (err) {
    assert.instance(err, EnokiError);
    assert.is((err as EnokiError).code, 'ERR_INVALID_OPTION');
    assert.match((err as Error).message, mentions);
    return;
  }
  assert.unreachable(`accepted ${JSON.stringify(env)}`);
}

test('an empty environment gives the defaults', () => {
  assert.equal(loadConfig({}, {}), { ...DEFAULTS, dataDir: path.resolve(DEFAULTS.dataDir) });
});

test('the warm-instance memory budget follows the memory the node may use', () => {
  const MiB = 1024 * 1024;
  const GiB = 1024 * MiB;
  // A node in a 512 MiB cgroup on a large machine keeps a quarter of its limit for instances.
  assert.is(instanceBudgetMiB(24 * GiB, 512 * MiB), 128);
  // No limit: Node reports 0 (older versions) or a huge number; the machine's memory counts, capped.
  assert.is(instanceBudgetMiB(24 * GiB, 0), 1024);
  assert.is(instanceBudgetMiB(24 * GiB, 2 ** 64), 1024);
  // A 1 GB device without a cgroup limit, and a tiny limit (the floor).
  assert.is(instanceBudgetMiB(1 * GiB, 0), 256);
  assert.is(instanceBudgetMiB(24 * GiB, 128 * MiB), 64);
  // An explicit setting still wins.
  assert.is(loadConfig({}, { ENOKI_INSTANCE_MEMORY_BUDGET_MIB: '300' }).instanceMemoryBudgetMiB, 300);
});

test('environment variables override defaults', () => {
  const config = loadConfig({}, {
    PORT: '9000',
    ENOKI_WORKERS: '3',
    ENOKI_FSYNC: 'true',
    ENOKI_HOST: '127.0.0.1',
    ENOKI_TIMEOUT_MS: '2500',
    ENOKI_LOG_LEVEL: 'debug',
    ENOKI_OFFLOAD_MS: '0',
  });
  assert.is(config.offloadMs, 0);
  assert.is(config.port, 9000);
  assert.is(config.workers, 3);
  assert.is(config.fsync, true);
  assert.is(config.host, '127.0.0.1');
  assert.is(config.defaultTimeoutMs, 2500);
  assert.is(config.logLevel, 'debug');
  assert.is(config.maxQueue, DEFAULTS.maxQueue);
});

test('log, async-result, call-signature and purge settings come from the environment', () => {
  const config = loadConfig({}, {
    ENOKI_LOG_ENTRIES_PER_FUNCTION: '50',
    ENOKI_ASYNC_RESULTS: '7',
    ENOKI_ASYNC_RESULT_TTL_MS: '1000',
    ENOKI_ASYNC_RESULT_MAX_BYTES: '2048',
    ENOKI_ASYNC_RESULTS_DISK_BYTES: '4096',
    ENOKI_CALL_SECRET: 'sixteen chars at least',
    ENOKI_CALL_SIGNATURE_WINDOW_MS: '5000',
    ENOKI_PURGE_INTERVAL_MS: '0',
    ENOKI_IDLE_COLLECT_MS: '500',
  });
  assert.equal(
    [config.logEntriesPerFunction, config.asyncResults, config.asyncResultTtlMs, config.asyncResultMaxBytes, config.asyncResultsDiskBytes],
    [50, 7, 1000, 2048, 4096],
  );
  assert.equal([config.callSecret, config.callSignatureWindowMs, config.purgeIntervalMs], ['sixteen chars at least', 5000, 0]);
  assert.is(config.idleCollectMs, 500);
  assert.is(loadConfig({}, {}).idleCollectMs, 2000);
  assert.is(loadConfig({}, { ENOKI_WARM_UP: 'false' }).warmUp, false);
  assert.is(loadConfig({}, {}).warmUp, true);
  assert.is(loadConfig({}, {}).callSecret, undefined);
  invalid({ ENOKI_LOG_ENTRIES_PER_FUNCTION: '0' }, 'ENOKI_LOG_ENTRIES_PER_FUNCTION');
  invalid({ ENOKI_ASYNC_RESULTS: '0' }, 'ENOKI_ASYNC_RESULTS');
  invalid({ ENOKI_ASYNC_RESULT_MAX_BYTES: '5000', ENOKI_ASYNC_RESULTS_DISK_BYTES: '4096' }, 'ENOKI_ASYNC_RESULTS_DISK_BYTES');
  invalid({ ENOKI_CALL_SECRET: 'short' }, 'ENOKI_CALL_SECRET');
});

test('boolean variables take the usual spellings', () => {
  for (const yes of ['1', 'TRUE', 'yes', 'on']) assert.is(loadConfig({}, { ENOKI_FSYNC: yes }).fsync, true, yes);
  for (const no of ['0', 'false', 'No', 'off']) assert.is(loadConfig({}, { ENOKI_FSYNC: no }).fsync, false, no);
});

test('an empty variable counts as unset', () => {
  assert.is(loadConfig({}, { PORT: '' }).port, DEFAULTS.port);
});

test('explicit overrides win over the environment; undefined overrides do not erase it', () => {
  const env = { PORT: '9000', ENOKI_FSYNC: 'true', ENOKI_WORKERS: '3' };
  const config = loadConfig({ port: 7000, fsync: false, workers: undefined }, env);
  assert.is(config.port, 7000);
  assert.is(config.fsync, false);
  assert.is(config.workers, 3);
  assert.is(loadConfig({ port: 0 }, env).port, 0);
});

test('the data directory is always absolute', () => {
  assert.is(loadConfig({}, { ENOKI_DATA_DIR: 'rel/data' }).dataDir, path.resolve('rel/data'));
  assert.is(loadConfig({ dataDir: 'other' }, {}).dataDir, path.resolve('other'));
});

test('invalid values are refused with the variable name', () => {
  invalid({ PORT: 'abc' }, 'PORT');
  invalid({ PORT: '1.5' }, 'PORT');
  invalid({ ENOKI_FSYNC: 'maybe' }, 'ENOKI_FSYNC');
  invalid({ ENOKI_WORKERS: '-2' }, 'ENOKI_WORKERS');
  invalid({ ENOKI_MAX_QUEUE: '10k' }, 'ENOKI_MAX_QUEUE');
  invalid({ ENOKI_WORKERS: '0' }, 'ENOKI_WORKERS');
  invalid({ PORT: '70000' }, 'PORT');
  invalid({ PORT: '1e1' }, 'PORT');
  invalid({ ENOKI_TIMEOUT_MS: '900000' }, 'ENOKI_TIMEOUT_MS');
  invalid({ ENOKI_MEMORY_MIB: '4096' }, 'ENOKI_MEMORY_MIB');
  invalid({ ENOKI_WORKERS: '2', ENOKI_MIN_WORKERS: '3' }, 'ENOKI_MIN_WORKERS');
  invalid({ ENOKI_PREWARM: 'sometimes' }, 'ENOKI_PREWARM');
  invalid({ ENOKI_OFFLOAD_MS: '-1' }, 'ENOKI_OFFLOAD_MS');
});


test('calls between functions: depth, workers and routes from the environment', () => {
  assert.is(DEFAULTS.maxCallDepth, 8);
  const config = loadConfig({}, {
    ENOKI_MAX_CALL_DEPTH: '3',
    ENOKI_CALL_WORKERS: '0',
    ENOKI_FUNCTION_ROUTES: ' sensor=http://10.0.0.2:8080/ , store-ab=https://cloud.example:8443/enoki,*=https://cloud.example:8443',
  });
  assert.is(config.maxCallDepth, 3);
  assert.is(config.callWorkers, 0);
  assert.equal(config.functionRoutes, {
    byName: { sensor: 'http://10.0.0.2:8080', 'store-ab': 'https://cloud.example:8443/enoki' },
    fallback: 'https://cloud.example:8443',
  });
  assert.equal(loadConfig({}, {}).functionRoutes, { byName: {} });
});

test('bad function routes are refused naming the entry', () => {
  invalid({ ENOKI_FUNCTION_ROUTES: 'sensor' }, 'got "sensor"');
  invalid({ ENOKI_FUNCTION_ROUTES: 'Sensor=http://a:1' }, 'Sensor');
  invalid({ ENOKI_FUNCTION_ROUTES: 'sensor=not a url' }, 'not a URL');
  invalid({ ENOKI_FUNCTION_ROUTES: 'sensor=ftp://a:1' }, 'http(s)://');
  invalid({ ENOKI_FUNCTION_ROUTES: 'sensor=http://a:1/?x=1' }, 'http(s)://');
  invalid({ ENOKI_MAX_CALL_DEPTH: '-1' }, 'ENOKI_MAX_CALL_DEPTH');
});
test.run();

// The BeFaaS IoT workload of load-befaas.py (OpenFogStack/enoki), which stood in for BeFaaS's
// artillery script: a generator picks a scenario by weight (traffic sensor 45, weather sensor 10,
// camera image 45), queues one request and sleeps 1/weight s (less what picking took), and 10
// workers send the queued requests one at a time each. So the rate is about 33 requests/s
// (1/45 + 1/10 + 1/45 s of sleep per three picks, on average 0.03 s), not the `arrivalRate: 5` the
// script declares, and at most 10 requests are in flight. When the time is up the generator stops
// and the queue is drained.
import { randomUUID } from 'node:crypto';
import type { HttpClient } from './load.js';
import { sleep } from './load.js';

export const ENTRY_FUNCTIONS = ['trafficsensorfilter', 'weathersensorfilter', 'objectrecognition'] as const;
export type EntryFunction = (typeof ENTRY_FUNCTIONS)[number];

/** One request a worker sent: its scenario, the variant of its input, and the outcome. */
export interface Sent {
  fn: EntryFunction;
  variant: string;
  status: number | 'failed';
  /** performance.now() ms. */
  start: number;
  end: number;
}

interface Task {
  fn: EntryFunction;
  variant: string;
  body: string;
}

const WEIGHTS: Array<[EntryFunction, number]> = [
  ['trafficsensorfilter', 45],
  ['weathersensorfilter', 10],
  ['objectrecognition', 45],
];

/**
 * Stand-ins for the original's two JPEG files (misc/image-*.jpg, 11903 and 6659 bytes), which
 * this repository does not carry. objectrecognition only looks at the byte at offset 54, which
 * is 14 in image-noambulance.jpg and 0 in image-ambulance.jpg: so the file named "noambulance"
 * is the one that makes it report an ambulance. The stand-ins have the same sizes and the same
 * byte at offset 54; the rest is filler.
 */
function image(bytes: number, at54: number): string {
  const data = Buffer.alloc(bytes);
  let x = 0x2545f491;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  data[0] = 0xff;
  data[1] = 0xd8;
  data[54] = at54;
  return data.toString('base64');
}

const IMAGE_NOAMBULANCE = image(11903, 14);
const IMAGE_AMBULANCE = image(6659, 0);

const choice = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];

/**
 * The scenario's input. `intendedImages`: the image the original meant to send (the ambulance
 * file for 5 s of every 20); by default the one it sent, since `time.time() - START_TIME % 20 < 5`
 * is never true and every request carried image-noambulance.jpg.
 */
function input(fn: EntryFunction, elapsedS: number, intendedImages: boolean): { variant: string; data: object } {
  switch (fn) {
    case 'trafficsensorfilter': {
      // "this was in the original workload, no idea what the intention is": 800 is dropped by the filter.
      const speed = choice([10, 800]);
      return { variant: `speed ${speed}`, data: { carDirection: { plate: 'OD DI 98231', direction: 4, speed } } };
    }
    case 'weathersensorfilter': {
      const rain = choice([true, false]);
      return { variant: rain ? 'rain' : 'no rain', data: { temperature: 10.0, humidity: 50.0, wind: 5.0, rain } };
    }
    case 'objectrecognition': {
      const ambulanceFile = intendedImages && elapsedS % 20 < 5;
      return { variant: ambulanceFile ? 'image-ambulance' : 'image-noambulance', data: { image: ambulanceFile ? IMAGE_AMBULANCE : IMAGE_NOAMBULANCE } };
    }
  }
}

function pick(): EntryFunction {
  const total = WEIGHTS.reduce((n, [, w]) => n + w, 0);
  let r = Math.random() * total;
  for (const [fn, w] of WEIGHTS) if ((r -= w) < 0) return fn;
  return WEIGHTS[WEIGHTS.length - 1][0];
}

function task(fn: EntryFunction, elapsedS: number, intendedImages: boolean): Task {
  const { variant, data } = input(fn, elapsedS, intendedImages);
  // The BeFaaS context: the input, this call's id and the workflow's id.
  return { fn, variant, body: JSON.stringify({ data, xpair: randomUUID(), xcontext: randomUUID() }) };
}

/** A request body of the scenario, as the load generator makes it (the original image). */
export function befaasBody(fn: EntryFunction): string {
  return task(fn, 10, false).body;
}

export interface LoadOptions {
  durationS: number;
  workers: number;
  intendedImages: boolean;
  /** URL of each entry function (…/fn/<name>). */
  urls: Record<EntryFunction, string>;
}

/** Runs the workload; returns every request sent, in completion order. */
export async function runBefaasLoad(client: HttpClient, opts: LoadOptions): Promise<Sent[]> {
  const queue: Task[] = [];
  const sent: Sent[] = [];
  const idle: Array<() => void> = []; // workers waiting for a task
  let generating = true;
  const began = performance.now();

  const generator = (async () => {
    const until = began + opts.durationS * 1000;
    while (performance.now() < until) {
      const t = performance.now();
      const fn = pick();
      queue.push(task(fn, (t - began) / 1000, opts.intendedImages));
      idle.shift()?.();
      const weight = WEIGHTS.find(([f]) => f === fn)![1];
      await sleep(1000 / weight - (performance.now() - t));
    }
    generating = false;
    while (idle.length > 0) idle.shift()!();
  })();

  const worker = async () => {
    for (;;) {
      const next = queue.shift();
      if (!next) {
        if (!generating) return;
        await new Promise<void>((resolve) => idle.push(resolve));
        continue;
      }
      const start = performance.now();
      const reply = await client.request(opts.urls[next.fn], next.body).catch(() => undefined);
      sent.push({ fn: next.fn, variant: next.variant, status: reply?.status ?? 'failed', start: reply?.start ?? start, end: reply?.end ?? performance.now() });
    }
  };
  await Promise.all([generator, ...Array.from({ length: opts.workers }, () => worker())]);
  return sent;
}

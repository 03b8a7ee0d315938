// Emulated network links on loopback (kernel netem is not available here): TCP proxies that hold
// every chunk for a fixed one-way delay in each direction, in order, and an HTTP CONNECT proxy
// whose tunnels get a delay chosen per destination (grpc-js tunnels through one when `grpc_proxy`
// is set, which is how a node's outgoing peering traffic gets per-link delays).
//
// Precision: Node's timers fire on a millisecond clock, often up to 1 ms late. The scheduler
// therefore sleeps on a timer until SPIN_MS before the earliest due time and then polls with
// setImmediate, which keeps the overshoot in the tens of microseconds while costing CPU only in
// the last SPIN_MS before a delivery. Its overshoot is recorded (stats()).
import net from 'node:net';

/** Lead time of the polling phase before a due time, ms. */
const SPIN_MS = 1.5;
/** A direction with more than this many bytes in flight pauses its source, until below LOW. */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 2 * 1024 * 1024;
const OVERSHOOT_SAMPLES = 20_000;

interface Job {
  due: number;
  seq: number;
  run: () => void;
}

/** Runs jobs at their due time (performance.now() ms); jobs with equal due times run in order. */
export class DelayScheduler {
  private readonly heap: Job[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private polling = false;
  private readonly overshoot = new Float64Array(OVERSHOOT_SAMPLES);
  private samples = 0;

  schedule(due: number, run: () => void): void {
    this.push({ due, seq: this.seq++, run });
    this.arm();
  }

  /** How late jobs ran (ms) over the last OVERSHOOT_SAMPLES jobs. */
  stats(): { jobs: number; p50: number; p99: number; max: number } {
    const n = Math.min(this.samples, OVERSHOOT_SAMPLES);
    const sorted = Array.from(this.overshoot.subarray(0, n)).sort((a, b) => a - b);
    const at = (p: number) => (n === 0 ? NaN : sorted[Math.min(n - 1, Math.ceil(p * n) - 1)]);
    return { jobs: this.samples, p50: at(0.5), p99: at(0.99), max: n === 0 ? NaN : sorted[n - 1] };
  }

  /** Forgets the recorded overshoot (e.g. after a warm-up). */
  resetStats(): void {
    this.samples = 0;
  }

  private arm(): void {
    if (this.polling || this.heap.length === 0) return;
    const due = this.heap[0].due;
    const sleep = due - performance.now() - SPIN_MS;
    if (sleep <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerDue = Infinity;
      this.polling = true;
      setImmediate(this.poll);
    } else if (due < this.timerDue) {
      if (this.timer) clearTimeout(this.timer);
      this.timerDue = due;
      this.timer = setTimeout(this.wake, sleep);
    }
  }

  private readonly wake = (): void => {
    this.timer = undefined;
    this.timerDue = Infinity;
    this.arm();
  };

  private readonly poll = (): void => {
    this.polling = false;
    const now = performance.now();
    while (this.heap.length > 0 && this.heap[0].due <= now) {
      const job = this.pop();
      this.overshoot[this.samples++ % OVERSHOOT_SAMPLES] = performance.now() - job.due;
      job.run();
    }
    this.arm();
  };

  private push(job: Job): void {
    const h = this.heap;
    h.push(job);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): Job {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Job, b: Job) => a.due < b.due || (a.due === b.due && a.seq < b.seq);

/**
 * Forwards what `from` sends to `to`, each chunk delayMs after it arrived (and not before
 * `notBefore`), then the end of the stream. Due times never decrease within one direction, so the
 * scheduler's order is the arrival order.
 */
export function pipeDelayed(from: net.Socket, to: net.Socket, delayMs: number, scheduler: DelayScheduler, notBefore = 0, first?: Buffer): void {
  let inFlight = 0;
  let paused = false;
  const dueAt = () => Math.max(performance.now(), notBefore) + delayMs;
  const resumeIfLow = () => {
    if (paused && inFlight + to.writableLength < LOW_WATER) {
      paused = false;
      from.resume();
    }
  };
  const forward = (chunk: Buffer) => {
    inFlight += chunk.length;
    if (!paused && inFlight + to.writableLength > HIGH_WATER) {
      paused = true;
      from.pause();
    }
    scheduler.schedule(dueAt(), () => {
      inFlight -= chunk.length;
      if (!to.destroyed) to.write(chunk);
      resumeIfLow();
    });
  };
  to.on('drain', resumeIfLow);
  if (first && first.length > 0) forward(first);
  from.on('data', forward);
  from.on('end', () => scheduler.schedule(dueAt(), () => to.end()));
  // A reset or an abrupt close reaches the other side after the same delay as the data before it.
  from.on('close', (hadError) => {
    if (hadError || !from.readableEnded) scheduler.schedule(dueAt(), () => to.destroy());
  });
  from.on('error', () => undefined); // reported through 'close'
}

export interface Endpoint {
  host: string;
  port: number;
}

export interface RunningProxy {
  readonly port: number;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
}

export interface DelayProxyOptions {
  /** Where clients connect; the port defaults to one the OS picks. */
  listen?: Partial<Endpoint>;
  target: Endpoint;
  /** One-way delay added to each direction, ms. */
  delayMs: number;
  /**
   * Charge the TCP handshake a real link would cost: a client's first bytes reach the target no
   * earlier than 3 one-way delays after it connected (SYN, SYN-ACK, then the data), as they would
   * over the link. On by default; a long-lived connection pays it once.
   */
  handshake?: boolean;
  scheduler: DelayScheduler;
}

/** A TCP proxy in front of one target: the link between whoever connects and that target. */
export async function startDelayProxy(options: DelayProxyOptions): Promise<RunningProxy> {
  const { target, delayMs, scheduler } = options;
  const handshake = options.handshake ?? true;
  return listen(options.listen, (client, sockets) => {
    const acceptedAt = performance.now();
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    upstream.on('error', () => undefined); // handled through 'close'
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    pipeDelayed(client, upstream, delayMs, scheduler, handshake ? acceptedAt + 2 * delayMs : 0);
    pipeDelayed(upstream, client, delayMs, scheduler);
  });
}

export interface ConnectProxyOptions {
  listen?: Partial<Endpoint>;
  /** One-way delay of the tunnel to host:port, ms; undefined refuses the tunnel (403). */
  delayFor(host: string, port: number): number | undefined;
  /** As DelayProxyOptions.handshake: the 200 answer comes one round trip after the CONNECT. */
  handshake?: boolean;
  scheduler: DelayScheduler;
}

/** An HTTP CONNECT proxy whose tunnels are links with a delay chosen by their destination. */
export async function startConnectProxy(options: ConnectProxyOptions): Promise<RunningProxy> {
  const { scheduler } = options;
  const handshake = options.handshake ?? true;
  return listen(options.listen, (client, sockets) => {
    const acceptedAt = performance.now();
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16 * 1024) client.destroy();
        return;
      }
      client.off('data', onHead);
      client.pause();
      const rest = head.subarray(end + 4);
      const request = /^CONNECT (\S+):(\d+) HTTP\/1\.[01]\r\n/.exec(head.subarray(0, end + 2).toString('latin1'));
      const refuse = (status: string) => client.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
      if (!request) return refuse('405 Method Not Allowed');
      const host = request[1].replace(/^\[(.*)\]$/, '$1');
      const port = Number(request[2]);
      const delayMs = options.delayFor(host, port);
      if (delayMs === undefined) return refuse('403 Forbidden');
      const upstream = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
      let open = false;
      sockets.add(upstream);
      upstream.on('error', () => undefined); // handled through 'close'
      upstream.once('close', () => {
        sockets.delete(upstream);
        if (!open) refuse('502 Bad Gateway'); // once open, the tunnel passes the close on
      });
      upstream.once('connect', () => {
        // The tunnel opens when a real link's handshake would have completed.
        const openAt = Math.max(performance.now(), handshake ? acceptedAt + 2 * delayMs : 0);
        scheduler.schedule(openAt, () => {
          if (client.destroyed || upstream.destroyed) return;
          open = true;
          client.write('HTTP/1.1 200 Connection established\r\n\r\n');
          pipeDelayed(client, upstream, delayMs, scheduler, 0, rest);
          pipeDelayed(upstream, client, delayMs, scheduler);
          client.resume();
        });
      });
    };
    client.on('data', onHead);
  });
}

async function listen(at: Partial<Endpoint> | undefined, onConnection: (client: net.Socket, sockets: Set<net.Socket>) => void): Promise<RunningProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => undefined); // each side's failure is handled through 'close'
    onConnection(client, sockets);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at?.port ?? 0, at?.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

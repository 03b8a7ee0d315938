// A wasi:http function's response as it is produced: the client gets the status and headers when
// the guest sets them and the body as the guest writes it. The body ends only when the call has
// ended and its key-value writes are committed; a call that fails after its head was sent (a
// trap, a timeout, a malformed body, a failed commit) ends the body with an error, so the client
// sees an aborted response, never a complete-looking one.

import type { Invocation, ResponseStream, StreamedHead } from '../invoke/invoker.js';

export type InvocationOutcome =
  | { kind: 'whole'; invocation: Invocation }
  | { kind: 'streamed'; head: StreamedHead; body: ReadableStream<Uint8Array> };

/**
 * Runs `invoke` with a ResponseStream; settles at the response head (a streamed call) or at the
 * end of the call (everything else, and a call that fails before its head). `abort` ends the
 * client's connection at once when a call fails after its head (without it, the body errors).
 */
export async function invokeStreaming(invoke: (stream: ResponseStream) => Promise<Invocation>, abort?: () => void): Promise<InvocationOutcome> {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => {
      cancelled = true;
    },
  });
  let announce!: (head: StreamedHead) => void;
  const head = new Promise<StreamedHead>((resolve) => (announce = resolve));
  const done = invoke({
    head: (h) => announce(h),
    chunk: (bytes) => {
      if (!cancelled) controller.enqueue(bytes);
    },
  });
  const first = await Promise.race([head.then((h) => ({ head: h })), done.then((invocation) => ({ invocation }))]);
  if ('invocation' in first && !first.invocation.streamed) return { kind: 'whole', invocation: first.invocation };
  done.then(
    () => {
      if (!cancelled) controller.close();
    },
    (err: unknown) => {
      if (cancelled) return;
      // The server then cancels the body itself; an errored body would also be logged by it.
      if (abort) abort();
      else controller.error(err);
    },
  );
  return { kind: 'streamed', head: 'head' in first ? first.head : await head, body };
}

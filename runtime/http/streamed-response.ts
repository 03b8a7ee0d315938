// A wasi:http function's response as it is produced: the client gets the status and headers when
// the guest sets them and the body as the guest writes it. The body ends only when the call has
// ended and its key-value writes are committed; a call that fails after its head was sent (a
// trap, a timeout, a malformed body, a failed commit) ends the body with an error, so the client
// sees an aborted response, never a complete-looking one (the last bytes of a body with a
// content-length are held until then). Each chunk is answered once the client has taken it (the
// server has read it from the body to write it to the socket), which is what lets the guest write
// more: a guest writing faster than its client reads waits (exec/wasi-http/call-response.ts
// FLOW_WINDOW_BYTES). One that writes on without asking has the response aborted once
// MAX_UNREAD_BYTES wait for the client: the node does not hold an endless body for a client that
// takes none of it.

import type { Invocation, ResponseStream, StreamedHead } from '../invoke/invoker.js';

/** Bytes of a streamed body that may wait for the client to read them. */
export const MAX_UNREAD_BYTES = 16 * 1024 * 1024;

export type InvocationOutcome =
  | { kind: 'whole'; invocation: Invocation }
  | { kind: 'streamed'; head: StreamedHead; body: ReadableStream<Uint8Array> };

/**
 * Runs `invoke` with a ResponseStream; settles at the response head (a streamed call) or at the
 * end of the call (everything else, and a call that fails before its head). `abort` ends the
 * client's connection at once when a call fails after its head (without it, the body errors).
 * A call that never announces a head (every call of a function not of the wasi:http world)
 * costs no stream: the body is made at the head.
 */
export function invokeStreaming(invoke: (stream: ResponseStream) => Promise<Invocation>, abort?: () => void): Promise<InvocationOutcome> {
  return new Promise<InvocationOutcome>((settle, fail) => {
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let body: ReadableStream<Uint8Array> | undefined;
    let cancelled = false;
    // With a content-length the client takes the body as complete at its last byte, whatever
    // happens after: the chunk that completes it waits for the end of the call.
    let declared: number | undefined;
    let sent = 0;
    let last: Uint8Array | undefined;
    // Chunks in the queue, each with the end of its bytes in the body so far and what to call
    // once the client has read past it.
    const unread: { end: number; taken: (closed?: boolean) => void }[] = [];
    let enqueued = 0;
    const answerRead = () => {
      const queued = MAX_UNREAD_BYTES - (controller?.desiredSize ?? MAX_UNREAD_BYTES);
      const read = enqueued - queued;
      while (unread.length > 0 && unread[0].end <= read) unread.shift()!.taken();
    };
    // The client has gone (or was cut off): every chunk is dropped, and the guest told so.
    const answerAll = () => {
      for (const chunk of unread.splice(0)) chunk.taken(true);
    };
    const open = (): ReadableStreamDefaultController<Uint8Array> => {
      if (!controller) {
        body = new ReadableStream<Uint8Array>(
          {
            start: (c) => {
              controller = c;
            },
            // Called as the server reads the body.
            pull: answerRead,
            cancel: () => {
              cancelled = true;
              answerAll();
            },
          },
          { highWaterMark: MAX_UNREAD_BYTES, size: (chunk) => chunk.byteLength },
        );
      }
      return controller!;
    };
    let headSeen = false;
    invoke({
      head: (h) => {
        if (headSeen) return;
        headSeen = true;
        const length = h.headers.find(([name]) => name === 'content-length')?.[1];
        declared = length !== undefined && /^\s*\d+\s*$/.test(length) ? Number(length) : undefined;
        open();
        settle({ kind: 'streamed', head: h, body: body! });
      },
      chunk: (bytes, taken) => {
        if (cancelled) return taken(true);
        sent += bytes.byteLength;
        // The last bytes wait for the end of the call, whatever the client does meanwhile.
        if (declared !== undefined && sent >= declared) {
          last = bytes;
          return taken();
        }
        const queue = open();
        enqueued += bytes.byteLength;
        unread.push({ end: enqueued, taken });
        queue.enqueue(bytes);
        // A reader waiting for it has it already.
        answerRead();
        if ((queue.desiredSize ?? 0) >= 0) return;
        // The client has left MAX_UNREAD_BYTES unread: what follows is dropped, and so is it.
        cancelled = true;
        answerAll();
        if (abort) abort();
        else queue.error(new Error(`the client left more than ${MAX_UNREAD_BYTES} bytes of the body unread`));
      },
    }).then(
      (invocation) => {
        // Not streamed, or streamed without a head (nothing was announced): answered whole.
        if (!headSeen) return settle({ kind: 'whole', invocation });
        if (cancelled) return;
        if (last) controller!.enqueue(last);
        controller!.close();
      },
      (err: unknown) => {
        if (!headSeen) return fail(err);
        if (cancelled) return;
        // The server then cancels the body itself; an errored body would also be logged by it.
        if (abort) abort();
        else controller!.error(err);
      },
    );
  });
}

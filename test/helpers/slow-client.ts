// HTTP clients that read a response body at their own pace, for the tests of a streamed body's
// flow control: one that pauses before reading, one that leaves part-way.

import http from 'node:http';

export interface SlowRead {
  status: number;
  bytes: number;
  /** Whether every byte was what `byteAt` says. */
  matches: boolean;
  complete: boolean;
}

/**
 * GETs `url`, leaves the body unread for `pauseMs` after the head, then reads it to its end (or
 * until the connection is cut).
 */
export function readSlowly(url: string, pauseMs: number, byteAt: (k: number) => number): Promise<SlowRead> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let bytes = 0;
        let matches = true;
        res.pause();
        setTimeout(() => res.resume(), pauseMs);
        res.on('data', (chunk: Buffer) => {
          for (let i = 0; i < chunk.length && matches; i++) matches = chunk[i] === byteAt(bytes + i);
          bytes += chunk.length;
        });
        const done = () => resolve({ status: res.statusCode ?? 0, bytes, matches, complete: res.complete });
        res.on('end', done);
        res.on('aborted', done);
        res.on('error', done);
      })
      .on('error', reject);
  });
}

/**
 * GETs `url`, leaves the body unread for `pauseMs`, then reads until it has `leaveAfterBytes` and
 * closes the connection; resolves with the bytes it read.
 */
export function readAndLeave(url: string, pauseMs: number, leaveAfterBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let bytes = 0;
        res.pause();
        res.on('error', () => undefined);
        res.on('end', () => resolve(bytes));
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes < leaveAfterBytes) return;
          res.destroy();
          resolve(bytes);
        });
        setTimeout(() => res.resume(), pauseMs);
      })
      .on('error', reject);
  });
}

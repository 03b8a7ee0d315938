// The error the guest build library throws: which source failed to build, and why, in words.

export class GuestBuildError extends Error {
  readonly code = 'ERR_GUEST_BUILD';

  constructor(
    /** The source file (or a name for inline source) the message is about. */
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
    this.name = 'GuestBuildError';
  }
}

// variant: the guest of the bench's per-function memory measurements. bench/suite/guests.ts
// builds copies of this file that differ only in VARIANT, so each copy is a component of its own
// (own digest, own data image) while sharing the JS engine with every other JS function. The
// reply names the variant, so the bench can tell that each call reached its own function.

const VARIANT = 0;

const encoder = new TextEncoder();

export const handler = {
  handle(req) {
    const body = `variant ${VARIANT}: ${req.method} ${req.path}\n`;
    return { status: 200, headers: [['content-type', 'text/plain; charset=utf-8']], body: encoder.encode(body) };
  },
};

// A one-line progress indication for slow CLI steps: elapsed seconds while waiting (on a TTY),
// then "done in N s" or the failure.

export async function withProgress<T>(label: string, work: () => Promise<T>, out: NodeJS.WriteStream = process.stderr): Promise<T> {
  const started = performance.now();
  const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
  out.write(`${label}…`);
  const timer = out.isTTY ? setInterval(() => out.write(`\r${label}… ${elapsed()} s`), 250) : undefined;
  try {
    const result = await work();
    out.write(`${out.isTTY ? `\r${label}…` : ''} done in ${elapsed()} s\n`);
    return result;
  } catch (err) {
    out.write(`${out.isTTY ? `\r${label}…` : ''} failed after ${elapsed()} s\n`);
    throw err;
  } finally {
    if (timer) clearInterval(timer);
  }
}

// A guest's stdout and stderr as log lines (exec/output-lines.ts), as both engines keep them:
// what a user reads in the invocation's log is what the guest wrote, line by line, whatever
// pieces the guest wrote it in; a guest that never writes a newline gets its output in lines of
// MAX_LINE as it goes, not one string that grows in the node until the call ends.
import { test } from '../../helpers/suite.js';
import * as assert from 'uvu/assert';
import { MAX_LINE, OutputLines } from '../../../runtime/exec/output-lines.js';

const bytes = (text: string) => new TextEncoder().encode(text);

function collect(): { lines: [string, string][]; output: OutputLines } {
  const lines: [string, string][] = [];
  return { lines, output: new OutputLines((stream, line) => lines.push([stream, line])) };
}

test('lines split across writes, CRLF endings, streams apart, the last line at the end', () => {
  const { lines, output } = collect();
  output.write('stdout', bytes('one\r\ntw'));
  output.write('stderr', bytes('oops\n'));
  output.write('stdout', bytes('o\n\nthree'));
  assert.equal(lines, [
    ['stdout', 'one'],
    ['stderr', 'oops'],
    ['stdout', 'two'],
    ['stdout', ''],
  ]);
  output.end();
  assert.equal(lines.at(-1), ['stdout', 'three']);
  output.end();
  assert.is(lines.length, 5, 'nothing is left to emit twice');
});

test('a character whose UTF-8 bytes arrive in different writes is decoded whole', () => {
  const { lines, output } = collect();
  const euro = bytes('€ and 🍄\n');
  for (const b of euro) output.write('stdout', Uint8Array.of(b));
  assert.equal(lines, [['stdout', '€ and 🍄']]);
});

test('output without newlines comes out in lines of MAX_LINE as it is written, nothing lost', () => {
  const { lines, output } = collect();
  const chunk = 'abcdefghij'.repeat(1000);
  let written = '';
  for (let i = 0; i < 30; i++) {
    output.write('stdout', bytes(chunk));
    written += chunk;
    // Never more than one line's worth held back.
    assert.ok(written.length - lines.reduce((n, [, l]) => n + l.length, 0) <= MAX_LINE);
  }
  assert.ok(lines.length >= 4);
  assert.ok(lines.every(([, line]) => line.length === MAX_LINE));
  output.end();
  assert.is(lines.map(([, l]) => l).join(''), written);
});

test('a long line inside one write is cut into pieces of MAX_LINE, the rest kept in order', () => {
  const { lines, output } = collect();
  const long = 'x'.repeat(MAX_LINE * 2 + 5);
  output.write('stderr', bytes(`short\n${long}\nafter`));
  output.end();
  assert.equal(
    lines.map(([, l]) => l.length),
    [5, MAX_LINE, MAX_LINE, 5, 5],
  );
  assert.is(lines.map(([, l]) => l).join(''), `short${long}after`);
});

test.run();

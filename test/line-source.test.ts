// The import's line splitter: lines cut by chunk boundaries (a UTF-8 character too), CRLF, a last
// line without a newline, and an endless line cut at MAX_LINE_BYTES instead of held whole.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LineSplitter, MAX_LINE_BYTES } from '../src/import/line-source.ts';

const test = suite('import: line splitter');

function split(text: string | Buffer, chunk: number): string[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const s = new LineSplitter();
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += chunk) out.push(...s.push(bytes.subarray(i, i + chunk)));
  return [...out, ...s.end()];
}

test('every chunk size gives the same lines, CRLF and a UTF-8 character across a boundary included', () => {
  const text = 'a b c\r\nsecond "Mozilla/5.0 (äöü – 日本)"\n\nlast without newline';
  const want = ['a b c', 'second "Mozilla/5.0 (äöü – 日本)"', '', 'last without newline'];
  for (let n = 1; n <= Buffer.byteLength(text) + 1; n++) assert.equal(split(text, n), want, `chunks of ${n}`);
  assert.equal(split('x\n', 1), ['x'], 'a final newline ends the last line; no empty line after it');
});

test('a line longer than MAX_LINE_BYTES is cut, the next line is whole', () => {
  const long = Buffer.alloc(MAX_LINE_BYTES + 5000, 'x');
  const lines = split(Buffer.concat([long, Buffer.from('\nnext\n')]), 64 * 1024);
  assert.is(lines.length, 2);
  assert.is(lines[0].length, MAX_LINE_BYTES);
  assert.is(lines[1], 'next');
});

test.run();

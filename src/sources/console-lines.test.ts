import { describe, expect, it } from 'vitest';
import { ConsoleAssembler, endTextConsole, textConsoleLines } from './console-lines.ts';

describe('ConsoleAssembler', () => {
  it('keeps the last redraw of a \\r line, emits empty lines, splits multi-line fragments', () => {
    const a = new ConsoleAssembler();
    const out = [
      ...a.push('stdout', '\r 10%'),
      ...a.push('stdout', '\r 50%'),
      ...a.push('stdout', '\r100%\n\nnext '),
      ...a.push('stdout', 'part\r\nlast'),
      ...a.end(),
    ];
    expect(out.map((l) => l.text)).toEqual(['100%', '', 'next part', 'last']);
    expect(out.map((l) => l.index)).toEqual([0, 1, 2, 3]);
  });

  it('assembles stdout and stderr separately and numbers lines in completion order', () => {
    const a = new ConsoleAssembler();
    const out = [
      ...a.push('stdout', 'a', 1),
      ...a.push('stderr', 'err\n', 2),
      ...a.push('stdout', 'b\n', 3),
      ...a.push('stderr', 'tail', 4),
      ...a.push('stdout', 'tail2', 5),
      ...a.end(),
    ];
    expect(out.map((l) => [l.index, l.stream, l.text, l.timestamp])).toEqual([
      [0, 'stderr', 'err', 2],
      [1, 'stdout', 'ab', 3],
      [2, 'stderr', 'tail', 4],
      [3, 'stdout', 'tail2', 5],
    ]);
  });

  it('overwrites like a terminal after a bare \\r and keeps each overwritten state in order', () => {
    const a = new ConsoleAssembler();
    const out = [...a.push('stdout', 'abcdef\rXY\n'), ...a.push('stdout', 'load 1\rload 22\r'), ...a.push('stdout', 'load'), ...a.push('stdout', ' 3\n'), ...a.push('stdout', 'plain\n')];
    expect(out.map((l) => [l.text, l.overwritten])).toEqual([
      ['XYcdef', ['abcdef']],
      ['load 32', ['load 1', 'load 22']],
      ['plain', undefined],
    ]);
  });

  it('counts columns in code points, not UTF-16 units', () => {
    const a = new ConsoleAssembler();
    expect(a.push('stdout', '😀😀x\rab\n').map((l) => l.text)).toEqual(['abx']);
  });

  it('reads console text files chunk by chunk, a line cut between chunks staying one line, without a stream', async () => {
    async function* chunks() {
      yield 'one\ntw';
      yield 'o\r2\nthree';
    }
    const a = new ConsoleAssembler();
    const lines = [];
    for await (const l of textConsoleLines(a, chunks())) lines.push(l);
    lines.push(...endTextConsole(a));
    expect(lines).toEqual([{ index: 0, text: 'one' }, { index: 1, text: '2wo', overwritten: ['two'] }, { index: 2, text: 'three' }]);
  });
});

import { describe, expect, it } from 'vitest';
import { HttpError } from '../neptune/http-util.ts';
import { parsePredicate } from './search.ts';

describe('searchLeaderboardEntriesProto: the NQL this emulator understands', () => {
  it('a string attribute == a quoted value, as neptune-query writes it (escapes, parentheses)', () => {
    expect(parsePredicate('`sys/custom_run_id`:string == "abc"')).toEqual({ path: 'sys/custom_run_id', value: 'abc' });
    expect(parsePredicate('(`sys/custom_run_id`:string == "say \\"hi\\" \\\\ ok")')).toEqual({ path: 'sys/custom_run_id', value: 'say "hi" \\ ok' });
    expect(parsePredicate('')).toBeUndefined();
  });

  it('anything else is a 400 naming the query', () => {
    expect(() => parsePredicate('`sys/name`:string MATCHES "a.*"')).toThrow(HttpError);
  });
});

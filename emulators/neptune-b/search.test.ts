import { describe, expect, it } from 'vitest';
import { HttpError } from '../neptune/http-util.ts';
import { matches, parseNql, type Comparable } from '../neptune/nql.ts';

/** The NQL searchLeaderboardEntriesProto reads: the forms neptune-query 1.11.0 writes (internal/filters.py `to_query`). */
const run: Record<string, Comparable> = {
  'sys/custom_run_id': 'say "hi" \\ ok', 'sys/name': 'media-everything', 'config/seed': 3, 'config/amp': true, 'sys/tags': ['a', 'b'],
  'sys/creation_time': Date.UTC(2025, 2, 2), loss: 0.25,
};
const hit = (q: string) => matches(parseNql(q), (name) => run[name]);

describe('searchLeaderboardEntriesProto: the NQL neptune-query writes', () => {
  it('string ==, with escapes and parentheses; an empty query matches every run', () => {
    expect(hit('(`sys/custom_run_id`:string == "say \\"hi\\" \\\\ ok")')).toBe(true);
    expect(hit('`sys/custom_run_id`:string == "abc"')).toBe(false);
    expect(hit('')).toBe(true);
  });

  it('MATCHES / NOT MATCHES, OR of names, typed values as quoted strings, EXISTS, NOT, CONTAINS on sets', () => {
    expect(hit('((`sys/name`:string MATCHES "^media.*"))')).toBe(true);
    expect(hit('`sys/name`:string NOT MATCHES "^media"')).toBe(false);
    expect(hit('(`sys/name`:string == "x") OR (`sys/name`:string == "media-everything")')).toBe(true);
    expect(hit('`config/seed`:int == "3"')).toBe(true);
    expect(hit('`config/seed`:int > "3"')).toBe(false);
    expect(hit('`config/amp`:bool == "True"')).toBe(true);
    expect(hit('`sys/creation_time`:datetime >= "2025-03-01T00:00:00+00:00"')).toBe(true);
    expect(hit('`config/seed` EXISTS')).toBe(true);
    expect(hit('`vec`:stringSeries EXISTS')).toBe(false);
    expect(hit('NOT (`vec`:stringSeries EXISTS)')).toBe(true);
    expect(hit('(`sys/tags`:stringSet CONTAINS "a") AND (`sys/tags`:stringSet NOT CONTAINS "z")')).toBe(true);
    expect(hit('last(`loss`:floatSeries) < "0.5"')).toBe(true);
    expect(hit('last(`loss`:floatSeries) > "0.5"')).toBe(false);
  });

  it('anything else is a 400 syntax error', () => {
    expect(() => parseNql('min(`loss`:floatSeries) > "1"')).toThrow(HttpError);
    expect(() => parseNql('`sys/name`:string MATCHES "("')).not.toThrow();
    expect(() => hit('`sys/name`:string MATCHES "("')).toThrow(HttpError);
  });
});

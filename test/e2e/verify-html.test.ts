import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../emulators/stack.ts';
import { generateEntity } from '../../emulators/wandb/index.ts';
import { events, runCli } from '../support/cli.ts';
import { NeptuneCorruptor } from '../verify/corrupt-neptune.ts';

/**
 * Issue 12, the HTML report: `migrate --html` and `verify --html` write one self-contained page; a
 * real headless Chromium (Debian's `chromium`, driven by puppeteer-core) opens it with no console
 * error and no network request, the totals match the JSON report, a filter and the search narrow the
 * runs, and a screenshot is saved (.tmp/verify-report.png).
 */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
if (!CHROMIUM) console.warn('verify-html: SKIPPED the browser test: no Chromium at /usr/bin/chromium (apt-get install -y chromium)');

let stack: Stack;
let dir: string;
let verifyReport: { totals: Record<string, number>; runs: Array<{ run: { runId: string }; status: string }> };
let damagedRun = '';
const SHOT = resolve(import.meta.dirname, '../../.tmp/verify-report.png');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'w2n-verify-html-'));
  const storage = join(dir, 'neptune.sqlite');
  stack = await startStack({ entity: generateEntity({ seed: 7, preset: 'all-shapes', entity: 'e2e-team' }), workDir: join(dir, 'export'), neptune: { storage } });
  const ledger = join(dir, 'ledger.sqlite');
  const m = await runCli(['migrate', '--workspace', 'demo', '--projects', 'all', '--yes', '--json', '--ledger', ledger, '--html', join(dir, 'migrate.html')], stack.env, dir).done;
  if (m.code !== 0) throw new Error(`migrate failed (${m.code}): ${m.stderr}`);
  // One damaged run, so the page has a mismatch with its first differing point to show.
  const project = stack.entity.projects[0];
  const run = stack.neptune.inspect.runs(`demo/${project.name.replace(/_/g, '-')}`).find((r) => {
    const attrs = stack.neptune.inspect.attributes(r.id);
    return Object.entries(attrs).some(([p, a]) => a.type === 'floatSeries' && !p.startsWith('monitoring/') && stack.neptune.inspect.floatSeries(r.id, p).length > 2);
  })!;
  const path = Object.entries(stack.neptune.inspect.attributes(run.id)).find(([p, a]) => a.type === 'floatSeries' && !p.startsWith('monitoring/') && stack.neptune.inspect.floatSeries(run.id, p).length > 2)![0];
  const db = new NeptuneCorruptor(storage);
  db.setFloat(run.id, path, db.steps(run.id, path)[1], -1);
  db.close();
  damagedRun = run.customId!;
  const v = await runCli(['verify', '--workspace', 'demo', '--json', '--ledger', ledger, '--html', join(dir, 'verify.html')], stack.env, dir).done;
  expect(v.code).toBe(5);
  verifyReport = (events(v.stdout).find((e) => e.type === 'report') as unknown as { report: typeof verifyReport }).report;
}, 300_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the HTML report files', () => {
  it('report --html writes the migration report from the ledger alone', async () => {
    const out = await runCli(['report', '--ledger', join(dir, 'ledger.sqlite'), '--html', join(dir, 'report.html')], stack.env, dir).done;
    expect(out.code).toBe(0);
    expect(out.stderr).toContain(`HTML report: ${join(dir, 'report.html')}`);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain(`<div class="v" data-total="migrated">${verifyReport.totals.runs}</div>`);
    const data = JSON.parse(html.slice(html.indexOf('<script type="application/json" id="data">') + 42, html.indexOf('</script>'))) as Array<{ s: string }>;
    expect(data.map((r) => r.s)).toEqual(Array(verifyReport.totals.runs).fill('migrated'));
  });

  it('media have their rows: the images and media files a run wrote, and what verify compared of them', () => {
    const html = readFileSync(join(dir, 'verify.html'), 'utf8');
    const data = JSON.parse(html.slice(html.indexOf('<script type="application/json" id="data">') + 42, html.indexOf('</script>'))) as Array<{ p: string; w: string; x?: string }>;
    // The all-shapes entity's media run: an image series and media files (histograms, tables, audio…).
    const media = stack.entity.projects.flatMap((p) => stack.neptune.inspect.runs(`demo/${p.name.replace(/_/g, '-')}`))
      .filter((r) => Object.values(stack.neptune.inspect.attributes(r.id)).some((a) => a.type === 'imageSeries'))
      .map((r) => r.customId!);
    expect(media.length).toBeGreaterThan(0);
    for (const id of media) {
      const row = data.find((d) => d.p.endsWith(`/${id}`))!;
      expect(row.w, id).toMatch(/images \d+/);
      expect(row.w, id).toMatch(/media files \d+/);
      expect(row.x, id).toMatch(/Verify: media compared<\/h4><p class="media">\d+ images \(bytes per step\), \d+ media files \(size and MD5\)/);
    }
  });

  it('are single self-contained pages: no remote script, style, image or font', () => {
    for (const f of ['migrate.html', 'verify.html', 'report.html']) {
      const html = readFileSync(join(dir, f), 'utf8');
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
      expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[^"'\s<]*\.(js|css|woff2?)/i);
    }
    // Small: a few kB per run.
    expect(statSync(join(dir, 'verify.html')).size / verifyReport.totals.runs).toBeLessThan(20_000);
  });
});

describe.skipIf(!CHROMIUM)('the HTML report in headless Chromium', () => {
  it('opens with no console error and no request, shows the totals, filters, searches; screenshot saved', async () => {
    const puppeteer = (await import('puppeteer-core')).default;
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
      await page.setRequestInterception(true);
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`);
        void r.continue();
      });
      await page.setViewport({ width: 1400, height: 1000 });
      await page.goto(`file://${join(dir, 'verify.html')}`, { waitUntil: 'load' });

      const total = (label: string) => page.$eval(`[data-total="${label}"]`, (e) => e.textContent);
      expect(await total('verified')).toBe(String(verifyReport.totals.verified));
      expect(await total('mismatch')).toBe(String(verifyReport.totals.mismatch));
      expect(await total('missing')).toBe(String(verifyReport.totals.missing));
      expect(await total('migrated')).toBe(String(verifyReport.totals.runs));
      const visible = () => page.$$eval('tr.run', (rs) => rs.filter((r) => !(r as HTMLElement).hidden).map((r) => (r.querySelector('.rp') as HTMLElement).textContent));
      expect(await visible()).toHaveLength(verifyReport.totals.runs);
      expect(await page.$$eval('svg.spark', (s) => s.length)).toBeGreaterThan(0);

      await page.select('#f-verify', 'mismatch');
      const mismatched = await visible();
      expect(mismatched).toHaveLength(1);
      expect(mismatched[0]).toMatch(new RegExp(`/${damagedRun}$`));
      expect(await page.$eval('#shown', (e) => e.textContent)).toBe(`1 of ${verifyReport.totals.runs} runs`);
      // The mismatch's details name the first differing step.
      await page.$eval('tr.run:not([hidden]) details', (d) => ((d as HTMLDetailsElement).open = true));
      expect(await page.$eval('tr.run:not([hidden]) details', (d) => d.textContent)).toContain('first differing step');
      mkdirSync(resolve(SHOT, '..'), { recursive: true });
      await page.screenshot({ path: SHOT.replace(/\.png$/, '-mismatch.png'), fullPage: false });
      await page.select('#f-verify', '');
      await page.screenshot({ path: SHOT, fullPage: false });

      await page.type('#q', damagedRun);
      expect(await visible()).toEqual(mismatched);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

#!/usr/bin/env node
// Drives dwsnetd's page (GET /) in headless Chromium through puppeteer-core, as a
// person would: the models table, a refused file dropped on the drop zone, a
// classifier chosen with the file picker, Embed, then Adapt and its download.
// Prints one JSON object of what it saw (tests/integration/daemon_page.sh checks it)
// and saves a screenshot of the page at the end.
//   node tests/node/page_test.js --url URL --adapt FILE.onnx --refused FILE.onnx
//        --downloads DIR --screenshot FILE.png [--chromium PATH] [--no-embed]
'use strict';
const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');

function parseArgs(argv) {
  const a = { chromium: process.env.CHROMIUM || '/usr/bin/chromium', embed: true, timeout: 60000 };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--url') a.url = v();
    else if (k === '--adapt') a.adapt = path.resolve(v());
    else if (k === '--refused') a.refused = path.resolve(v());
    else if (k === '--downloads') a.downloads = path.resolve(v());
    else if (k === '--screenshot') a.screenshot = path.resolve(v());
    else if (k === '--chromium') a.chromium = v();
    else if (k === '--timeout-ms') a.timeout = Number(v());
    else if (k === '--no-embed') a.embed = false;
    else throw new Error('unknown argument ' + k);
  }
  for (const k of ['url', 'adapt', 'refused', 'downloads', 'screenshot']) {
    if (!a[k]) throw new Error('--' + k + ' is required');
  }
  return a;
}

const visible = (sel) => sel + ':not([hidden])';

async function main() {
  const a = parseArgs(process.argv);
  const origin = new URL(a.url).origin;
  const out = { console_errors: [], foreign_requests: [], steps: [] };
  const step = (s) => { out.steps.push(s); };
  const browser = await puppeteer.launch({
    executablePath: a.chromium,
    headless: true,
    // Chromium's sandbox needs user namespaces, which a root CI container lacks.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-extensions', '--disable-background-networking'],
    timeout: a.timeout,
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(a.timeout);
    await page.setViewport({ width: 1200, height: 900, deviceScaleFactor: 1 });
    // Failed API requests (the refusals this test provokes) are logged by Chromium as
    // "Failed to load resource"; anything else on the console as an error is a fault
    // of the page (a CSP refusal, an exception).
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (4|5)\d\d/.test(m.text())) {
        out.console_errors.push(m.text());
      }
    });
    page.on('pageerror', (e) => out.console_errors.push('exception: ' + e.message));
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(origin + '/') && !u.startsWith('blob:') && !u.startsWith('data:')) out.foreign_requests.push(u);
    });
    await page.evaluateOnNewDocument(() => {
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
    });

    fs.mkdirSync(a.downloads, { recursive: true });
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: a.downloads, eventsEnabled: true });
    const downloads = [];
    cdp.on('Browser.downloadWillBegin', (e) => downloads.push({ guid: e.guid, name: e.suggestedFilename, state: 'started' }));
    cdp.on('Browser.downloadProgress', (e) => {
      const d = downloads.find((x) => x.guid === e.guid);
      if (d) d.state = e.state;
    });

    const t0 = Date.now();
    const resp = await page.goto(a.url, { waitUntil: 'load' });
    out.status = resp.status();
    out.csp_header = resp.headers()['content-security-policy'] || null;
    await page.waitForFunction(() => document.body.dataset.state !== 'loading');
    out.models = await page.$$eval('#models-body tr', (rows) => rows.map((r) => ({
      id: r.dataset.model,
      cells: [...r.cells].map((c) => c.innerText.trim()),
    })));
    out.domain_options = await page.$$eval('#domain-select option', (os) => os.map((o) => o.textContent));
    step('models table: ' + out.models.length + ' rows in ' + (Date.now() - t0) + ' ms');

    // The file picker is reachable with the keyboard.
    out.tab_reaches_picker = false;
    for (let i = 0; i < 30 && !out.tab_reaches_picker; i++) {
      await page.keyboard.press('Tab');
      out.tab_reaches_picker = await page.evaluate(() => document.activeElement && document.activeElement.id === 'file-input');
    }

    // A refused file, dropped on the drop zone as a drag and drop would.
    const refusedName = path.basename(a.refused);
    const refusedB64 = fs.readFileSync(a.refused).toString('base64');
    await page.evaluate((b64, name) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: 'application/octet-stream' }));
      const zone = document.getElementById('drop-zone');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, refusedB64, refusedName);
    await page.waitForSelector(visible('#inspect-error'));
    out.refused_message = await page.$eval('#inspect-error', (e) => e.innerText);
    // Adapt the refused file too: the error shows, the file stays chosen.
    await page.click('#adapt-button');
    await page.waitForSelector(visible('#run-error'));
    out.refused_adapt_message = await page.$eval('#run-error', (e) => e.innerText);
    out.refused_file_kept = await page.evaluate(() => {
      const f = document.getElementById('file-input').files[0];
      return f ? f.name : null;
    });
    out.refused_adapt_enabled = await page.$eval('#adapt-button', (b) => !b.disabled);
    step('refused file: ' + out.refused_message.split('\n')[0]);

    // The classifier, through the file picker.
    const input = await page.$('#file-input');
    await input.uploadFile(a.adapt);
    await page.waitForSelector(visible('#inspect-result'));
    out.inspect_error_hidden = await page.$eval('#inspect-error', (e) => e.hidden);
    out.facts = await page.$$eval('#inspect-summary dt', (dts) =>
      Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent])));
    out.widths = out.facts.Widths.split('\u2192').map((x) => Number(x.trim()));
    out.layers = await page.$$eval('#layers-body tr', (rows) => rows.length);
    out.compat = await page.$$eval('#compat li', (lis) => lis.map((l) => ({ model: l.dataset.model, ok: l.className === 'yes', text: l.textContent })));
    step('inspected: widths ' + out.widths.join('-'));

    if (a.embed && !(await page.$eval('#embed-button', (b) => b.disabled))) {
      await page.click('#embed-button');
      await page.waitForSelector(visible('#embed-result') + ', ' + visible('#run-error'));
      out.embed = await page.evaluate(() => ({
        shown: !document.getElementById('embed-result').hidden,
        error: document.getElementById('run-error').hidden ? null : document.getElementById('run-error').innerText,
        summary: document.getElementById('embed-summary').textContent,
        bars: document.querySelectorAll('#embed-plot rect').length,
        values: JSON.parse(document.getElementById('embed-vector').textContent || 'null'),
      }));
      step('embedded: ' + (out.embed.shown ? out.embed.bars + ' bars' : out.embed.error));
    }

    const started = Date.now();
    await page.click('#adapt-button');
    await page.waitForSelector(visible('#adapt-result') + ', ' + visible('#run-error'));
    out.adapt_ms = Date.now() - started;
    out.adapt = await page.evaluate(() => ({
      shown: !document.getElementById('adapt-result').hidden,
      error: document.getElementById('run-error').hidden ? null : document.getElementById('run-error').innerText,
      link: document.getElementById('download-link').textContent,
      filename: document.getElementById('download-link').download,
      model: document.getElementById('adapt-model').textContent,
      time: document.getElementById('adapt-time').textContent,
      change: document.getElementById('adapt-change').textContent,
    }));
    if (out.adapt.shown) {
      const deadline = Date.now() + a.timeout;
      while (!downloads.some((d) => d.state === 'completed') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const done = downloads.find((d) => d.state === 'completed');
      // Chromium saves under the guid or the suggested name depending on the version.
      const saved = done && [path.join(a.downloads, done.name), path.join(a.downloads, done.guid)]
        .find((p) => fs.existsSync(p));
      out.download = saved || null;
      out.download_name = done ? done.name : null;
    }
    step('adapted: ' + (out.adapt.shown ? out.adapt.link : out.adapt.error));

    out.cookies = (await page.cookies()).length;
    out.document_cookie = await page.evaluate(() => document.cookie);
    out.csp_violations = await page.evaluate(() => window.__csp);
    // The download link and the results in view, then the whole page.
    await page.screenshot({ path: a.screenshot, fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
}

main().catch((e) => {
  console.error('page_test: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});

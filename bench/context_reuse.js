// tools/bench-context-reuse.sh: how much of Chromium's work per invite a
// kept browser context or a kept page would save (issue 11's (c) lever).
//   node context_reuse.js WS BASE MODE N PREFIX
// MODE fresh: a new context per job (saved cookies set into it, as our
// saved sign-in state does); context: one context, a new page per job;
// page: one page, navigated per job.  The same steps as flow.js's invite.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');
const { inviteOnPage } = require('./flow.js');
const [ws, base, mode, n, prefix] = process.argv.slice(2);
(async () => {
  const browser = await puppeteer.connect({ browserWSEndpoint: ws, defaultViewport: null });
  let keptCtx = null, keptPage = null;
  const cookies = path.join(os.tmpdir(), `${prefix}-${process.pid}.cookies.json`);
  for (let i = 0; i < Number(n); i++) {
    const email = `${prefix}-${i}@x.test`;
    if (mode === 'fresh') {
      const ctx = await browser.createBrowserContext();
      const page = await ctx.newPage();
      await inviteOnPage(page, base, email, cookies, false);
      await ctx.close();
    } else if (mode === 'context') {
      keptCtx = keptCtx || await browser.createBrowserContext();
      const page = await keptCtx.newPage();
      await inviteOnPage(page, base, email, null, true);
      await page.close();
    } else {
      keptCtx = keptCtx || await browser.createBrowserContext();
      keptPage = keptPage || await keptCtx.newPage();
      await inviteOnPage(keptPage, base, email, null, true);
    }
  }
  if (keptCtx) await keptCtx.close();
  if (fs.existsSync(cookies)) fs.unlinkSync(cookies);
  browser.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });

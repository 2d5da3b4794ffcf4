// make bench: the Puppeteer side, on the same Chromium (puppeteer-core,
// no browser download).  Modes:
//   node flow.js rtt WS N              N Runtime.evaluate round trips through a
//                                      CDPSession; one microsecond figure per line
//   node flow.js invite WS BASE EMAIL [COOKIES-FILE]
//                                      one invite flow in a fresh context (the
//                                      saved cookies instead of the login form
//                                      when COOKIES-FILE exists; written after a login)
//   node flow.js pool WS BASE N JOBS PREFIX [saved]
//                                      JOBS invites by N concurrent workers; prints
//                                      the wall ms
'use strict';
const fs = require('fs');
const puppeteer = require('puppeteer-core');

// The role cell of the row whose email cell is EMAIL, or null.
async function rowRole(page, email) {
  return page.$$eval('table.users tr', (trs, e) => {
    const head = [...trs[0].children].map((c) => c.textContent.trim().toLowerCase());
    for (const tr of trs.slice(1)) {
      const cells = [...tr.children].map((c) => c.textContent.trim());
      if (cells[head.indexOf('email')] === e) return cells[head.indexOf('role')];
    }
    return null;
  }, email);
}

// One invite on page: signed in by the saved cookies of COOKIES-FILE (or,
// with kept, by a page that is signed in already), else through the login
// form, whose cookies then go to COOKIES-FILE.
async function inviteOnPage(page, base, email, cookiesFile, kept) {
  let saved = null;
  if (cookiesFile && fs.existsSync(cookiesFile)) saved = JSON.parse(fs.readFileSync(cookiesFile, 'utf8'));
  let signedIn = false;
  if (saved) await page.setCookie(...saved);
  if (saved || kept) {
    await page.goto(base + '/', { waitUntil: 'load' });
    const r = await Promise.race([
      page.waitForSelector('table.users', { visible: true }).then(() => 'yes'),
      page.waitForSelector('#password', { visible: true }).then(() => 'no'),
    ]);
    signedIn = r === 'yes';
  }
  if (!signedIn) {
    await page.goto(base + '/#/login', { waitUntil: 'load' });
    await page.locator('#username').fill('admin@acme.test');
    await page.locator('#password').fill('acme-admin-pw');
    await page.locator('form.login-form button[type=submit]').click();
    await page.waitForSelector('table.users', { visible: true });
    if (cookiesFile) fs.writeFileSync(cookiesFile, JSON.stringify(await page.cookies()));
  }
  // The same reads as the idlcm job: check first, verify after.
  await page.waitForSelector('table.users[data-loaded="true"]');
  if ((await rowRole(page, email)) !== null) throw new Error(`${email} exists already`);
  await page.locator('button.invite-open').click();
  await page.locator('.modal input[name="email"]').fill(email);
  await page.select('.modal select[name="role"]', 'member');
  await page.locator('.modal button.send').click();
  await page.waitForFunction((e) => [...document.querySelectorAll('table.users tbody tr')]
    .some((tr) => tr.textContent.includes(e)), {}, email);
  const role = await rowRole(page, email);
  if (role !== 'member') throw new Error(`${email} has role ${role} after the invite`);
}

async function invite(browser, base, email, cookiesFile) {
  const ctx = await browser.createBrowserContext();
  try {
    await inviteOnPage(await ctx.newPage(), base, email, cookiesFile, false);
  } finally {
    await ctx.close();
  }
}

async function main() {
  const [mode, ws, ...rest] = process.argv.slice(2);
  const browser = await puppeteer.connect({ browserWSEndpoint: ws, defaultViewport: null });
  try {
    if (mode === 'rtt') {
      const ctx = await browser.createBrowserContext();
      const page = await ctx.newPage();
      const s = await page.createCDPSession();
      const out = [];
      for (let i = 0; i < Number(rest[0]); i++) {
        const t0 = process.hrtime.bigint();
        await s.send('Runtime.evaluate', { expression: '1' });
        out.push((Number(process.hrtime.bigint() - t0) / 1000).toFixed(1));
      }
      await ctx.close();
      console.log(out.join('\n'));
    } else if (mode === 'invite') {
      await invite(browser, rest[0], rest[1], rest[2]);
    } else if (mode === 'pool') {
      const [base, n, jobs, prefix, saved] = rest;
      const cookies = saved ? `${prefix}.cookies.json` : null;
      let next = 0;
      const t0 = Date.now();
      await Promise.all(Array.from({ length: Number(n) }, async () => {
        while (next < Number(jobs)) {
          const i = next++;
          await invite(browser, base, `${prefix}-${i}@bench.test`, cookies);
        }
      }));
      console.log(Date.now() - t0);
    } else {
      throw new Error('unknown mode ' + mode);
    }
  } finally {
    browser.disconnect();
  }
}

module.exports = { inviteOnPage };
if (require.main === module)
  main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });

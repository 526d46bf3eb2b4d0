// Drives a real headless chromium through jiralinkd's admin status page:
// log in with the token, check what the page shows, click Resync on a repo,
// see it change to "syncing", explain an issue, log out. Screenshots go to
// $SCREENSHOT_DIR. Run by indexer/admin's TestStatusPageInBrowser, which
// starts the server and sets:
//
//   ADMIN_URL       base URL of the admin server
//   ADMIN_TOKEN     the admin token (passed by environment, never argv)
//   CHROMIUM        path of the chromium binary (default /usr/bin/chromium)
//   SCREENSHOT_DIR  where to write login.png, status-before.png, status.png,
//                   issue.png (and failure.png)
//   RESYNC_REPO     provider/full name of the repo to resync
//   EXPECT_TEXT     JSON array of strings the status page must show
//   EXPLAIN_KEY     an issue key with links
//   EXPECT_BACKFILL the overall backfill percentage the progress bar must
//                   show ("" for no check)
//
// Prints one line per step; exits non-zero (after a failure.png) on the
// first failed check.
import { chromium } from 'playwright-core';
import path from 'node:path';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`${k} is not set`);
  return v;
};
const base = env('ADMIN_URL').replace(/\/$/, '');
const token = env('ADMIN_TOKEN');
const shots = env('SCREENSHOT_DIR');
const repo = env('RESYNC_REPO');
const expectText = JSON.parse(env('EXPECT_TEXT', '[]'));
const explainKey = env('EXPLAIN_KEY');
const expectBackfill = env('EXPECT_BACKFILL', '');

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
  console.log(`ok   ${msg}`);
}

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  chromiumSandbox: false, // --no-sandbox: CI runs as root in a container
  args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  timeout: 20000,
});
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(10000);

  // 1. Unauthenticated: sent to the login form.
  await page.goto(`${base}/`);
  check(new URL(page.url()).pathname === '/login', `unauthenticated / redirects to /login (at ${page.url()})`);
  check((await page.content()).includes('http.admin_token_env'), 'login page names http.admin_token_env');
  await page.screenshot({ path: path.join(shots, 'login.png') });

  // 2. A wrong token is refused, the right one lets us in.
  await page.fill('#token', 'not-the-token');
  await Promise.all([page.waitForLoadState('domcontentloaded'), page.click('button[type=submit]')]);
  check(await page.getByText('That is not the admin token.').isVisible(), 'wrong token is refused');
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
  check(new URL(page.url()).pathname === '/', 'logged in, on the status page');
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'jiralinkd_session');
  check(session && session.httpOnly && session.sameSite === 'Strict' && !session.value.includes(token),
    'session cookie is HttpOnly, SameSite=Strict and not the token');

  // 3. What the page shows.
  const body = await page.locator('body').innerText();
  for (const t of expectText) check(body.includes(t), `page shows "${t}"`);
  check(!body.includes(token) && !(await page.content()).includes(token), 'page never shows the token');
  if (expectBackfill !== '') {
    const bar = page.locator('#backfill-overall');
    const box = await bar.boundingBox();
    check(await bar.isVisible() && box && box.width > 20 && await bar.getAttribute('value') === expectBackfill,
      `backfill progress bar visible at ${expectBackfill}% (${box && Math.round(box.width)} px wide)`);
    const rows = await page.locator('#backfill-repos tbody tr progress').count();
    check(rows > 0, `${rows} running backfill(s) with their own bar`);
  }
  const row = page.locator(`tr[data-repo="${repo}"]`);
  const before = await row.getAttribute('data-state');
  check(before !== 'syncing', `${repo} is "${before}" before the click`);
  await page.screenshot({ path: path.join(shots, 'status-before.png'), fullPage: true });

  // 4. Resync: a real click on the row's button posts the form (with its
  // CSRF token) and the page comes back showing the repo syncing.
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/' && u.searchParams.get('notice') === 'started'),
    row.getByRole('button', { name: 'Resync' }).click(),
  ]);
  check(await page.getByText(`Resync of ${repo} started.`).isVisible(), 'notice "Resync … started." shown');
  check(await row.getAttribute('data-state') === 'syncing', `${repo} is now "syncing"`);
  check((await row.locator('.badge').innerText()).trim() === 'syncing', 'its badge reads "syncing"');
  check(await row.getByRole('button', { name: 'Resync' }).isDisabled(), 'its Resync button is disabled while syncing');
  await page.screenshot({ path: path.join(shots, 'status.png'), fullPage: true });

  // 5. Explain an issue from the header form (typed in lowercase).
  await page.fill('header input[name=key]', explainKey.toLowerCase());
  await Promise.all([page.waitForURL((u) => u.pathname === '/issues'), page.press('header input[name=key]', 'Enter')]);
  check(await page.getByRole('heading', { name: `Links on ${explainKey}` }).isVisible(), `explain page for ${explainKey}`);
  const links = await page.locator('#links tbody tr').count();
  check(links > 0, `${links} links listed`);
  await page.screenshot({ path: path.join(shots, 'issue.png'), fullPage: true });

  // 6. Log out: back to the login form, and / is closed again.
  await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.getByRole('button', { name: 'Log out' }).click()]);
  await page.goto(`${base}/`);
  check(new URL(page.url()).pathname === '/login', 'after logout / redirects to /login');
  console.log('PASS');
} catch (err) {
  console.error(String(err && err.stack || err));
  if (page) await page.screenshot({ path: path.join(shots, 'failure.png'), fullPage: true }).catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}

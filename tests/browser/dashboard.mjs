// Drives the dashboard page in headless Chromium (playwright-core, installed by scripts/setup.sh
// into the tools folder) and prints what it showed as JSON on stdout:
//   {"values": {<data-testid>: <data-value or text>}, "banner": "...", "later": {...}, "page_errors": [...]}
//
// With EXPECT_ERROR set it only waits for the error banner and prints {"banner", "page_errors"}.
//
// Environment: DASHBOARD_URL (required), SCREENSHOT (a .png path for a full-page screenshot),
// MIN_RECORDS (wait until the page shows at least this many first proofs, default 1),
// LIVE_TIMEOUT_MS (how long to wait for a newer height, default 15000), CHROMIUM (default
// /usr/bin/chromium), USAGECHAIN_TOOLS (default $USAGECHAIN_CACHE/tools or ~/.cache/usagechain/tools).

import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

const url = process.env.DASHBOARD_URL;
if (!url) {
  console.error("DASHBOARD_URL is not set");
  process.exit(2);
}
const tools =
  process.env.USAGECHAIN_TOOLS ??
  join(process.env.USAGECHAIN_CACHE ?? join(homedir(), ".cache", "usagechain"), "tools");
const require = createRequire(join(tools, "node_modules", "resolve-from-here.js"));
let chromium;
try {
  ({ chromium } = require("playwright-core"));
} catch (e) {
  console.error(`playwright-core not found in ${tools}/node_modules (run scripts/setup.sh): ${e.message}`);
  process.exit(2);
}

const minRecords = Number(process.env.MIN_RECORDS ?? "1");
const liveTimeout = Number(process.env.LIVE_TIMEOUT_MS ?? "15000");
const profile = mkdtempSync(join(tmpdir(), "dashboard-chromium-"));
// The machine's network may be closed: without these flags Chromium waits on connections to
// update, sync and QUIC services.
const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args,
  viewport: { width: 1400, height: 900 },
});
const pageErrors = [];
browse: try {
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
  await page.goto(url, { waitUntil: "domcontentloaded", timeout: 20000 });
  if (process.env.EXPECT_ERROR) {
    // The node does not answer: the page must say so in its error banner.
    await page.waitForSelector('[data-testid="error-banner"].shown', { timeout: 20000 });
    const banner = await page.locator('[data-testid="error-banner"]').textContent();
    process.stdout.write(JSON.stringify({ banner, page_errors: pageErrors }) + "\n");
    break browse;
  }
  // Rendered from an overview that holds first proofs.
  await page.waitForFunction(
    (min) => {
      const total = document.querySelector('[data-testid="records-total"]');
      return document.body.dataset.rendered && total && Number(total.dataset.value) >= min;
    },
    minRecords,
    { timeout: 40000, polling: 250 },
  );
  const read = () =>
    page.evaluate(() => {
      const values = {};
      for (const e of document.querySelectorAll("[data-testid]")) {
        values[e.dataset.testid] = e.dataset.value ?? e.textContent.trim();
      }
      const banner = document.querySelector('[data-testid="error-banner"]');
      return { values, banner: banner.classList.contains("shown") ? banner.textContent : "" };
    });
  const first = await read();
  const screenshot = process.env.SCREENSHOT;
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  // Live: the height shown moves on without a reload.
  const shown = Number(first.values.height);
  await page.waitForFunction(
    (h) => Number(document.querySelector('[data-testid="height"]').dataset.value) > h,
    shown,
    { timeout: liveTimeout, polling: 200 },
  );
  const later = await read();
  const out = {
    values: first.values,
    banner: first.banner,
    later: {
      height: Number(later.values.height),
      overview_height: Number(later.values["overview-height"]),
      banner: later.banner,
    },
    page_errors: pageErrors,
  };
  process.stdout.write(JSON.stringify(out) + "\n");
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

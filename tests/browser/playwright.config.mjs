// Playwright drives Debian's Chromium (never a browser of its own) against a demo node that
// scripts/browser-tests starts; each journey runs on a phone and on a desktop, in Chinese, in
// China's time zone. Screenshots and traces go to the run's artifacts folder, outside the clone.
import { defineConfig, devices } from "@playwright/test";

const artifacts = process.env.ZHIYUAN_ARTIFACTS;
if (!process.env.ZHIYUAN_BASE_URL || !artifacts) {
  throw new Error("run through scripts/browser-tests, which starts the node and names the artifacts folder");
}

const chromium = {
  executablePath: process.env.ZHIYUAN_CHROMIUM || "/usr/bin/chromium",
  // Without these, Chromium keeps trying to reach Google's hosts, which a closed network refuses.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.mjs",
  outputDir: `${artifacts}/results`,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"]],
  use: {
    baseURL: process.env.ZHIYUAN_BASE_URL,
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
    launchOptions: chromium,
    trace: "retain-on-failure",
  },
  projects: [
    { name: "phone", use: { ...devices["Pixel 7"] } },
    { name: "desktop", use: { browserName: "chromium", viewport: { width: 1280, height: 800 } } },
  ],
});

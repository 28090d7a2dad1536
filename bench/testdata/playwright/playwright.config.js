// make bench: the demo journey as a one-test Playwright Test project, set up
// as testdata/playwright is: the system's Chromium (Playwright never downloads
// a browser here), the JUnit reporter, the tenant from the environment
// (SUITECHECK_BASE_URL, SUITECHECK_TENANT_LOGIN/PASSWORD, set by bench/main.go).
// Its outputs go to the run's own temp dir (RUN_TMP) when there is one.
const path = require('path');
const { defineConfig } = require('@playwright/test');

const out = process.env.RUN_TMP || __dirname;

module.exports = defineConfig({
  testDir: './tests',
  outputDir: path.join(out, 'test-results'),
  reporter: [['junit', { outputFile: path.join(out, 'reports', 'junit.xml') }]],
  workers: 1,
  retries: 0,
  timeout: 20000,
  expect: { timeout: 5000 },
  use: {
    baseURL: process.env.SUITECHECK_BASE_URL,
    headless: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run'],
    },
  },
});

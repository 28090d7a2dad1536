// The app's own Playwright Test suite, as a team would have it, set up for
// suitecheck: it runs against SUITECHECK_BASE_URL with the fresh tenant's
// credentials from the environment, on the system's Chromium (Playwright
// never downloads a browser here), and writes a JUnit report.
const { defineConfig } = require('@playwright/test');

module.exports = defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  reporter: [['junit', { outputFile: 'reports/junit.xml' }]],
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

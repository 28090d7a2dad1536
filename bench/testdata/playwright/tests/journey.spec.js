// The journey of `suitecheck run journey` (bench/config/journey.yaml): sign
// in, upload a file, see it listed.
const { test, expect } = require('@playwright/test');

const login = process.env.SUITECHECK_TENANT_LOGIN;
const password = process.env.SUITECHECK_TENANT_PASSWORD;

test('signs in, uploads a file and sees it listed', async ({ page }) => {
  await page.goto('/login');
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('#sign-in');
  await expect(page.locator('body')).toContainText(`Welcome, ${login}`);
  await page.setInputFiles('#file', { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello, file') });
  await page.click('#upload');
  await expect(page.locator('#files')).toContainText('hello.txt');
});

const { test, expect } = require('@playwright/test');

const login = process.env.SUITECHECK_TENANT_LOGIN;
const password = process.env.SUITECHECK_TENANT_PASSWORD;

test.beforeEach(async ({ page }) => {
  await page.goto('/login');
  await page.fill('#login', login);
  await page.fill('#password', password);
  await page.click('#sign-in');
  await expect(page.locator('body')).toContainText(`Welcome, ${login}`);
});

test('signs in to the dashboard', async ({ page }) => {
  await expect(page).toHaveTitle('Dashboard');
});

test('posts a message', async ({ page }) => {
  await page.fill('#message', 'hello from playwright');
  await page.click('#send');
  await expect(page.locator('body')).toContainText('hello from playwright');
});

test('shows the tenant', async ({ page }) => {
  // EXPECT_TENANT_TEXT lets the monitoring config assert something more.
  await expect(page.locator('body')).toContainText(process.env.EXPECT_TENANT_TEXT || login);
});

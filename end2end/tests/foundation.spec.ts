import { test, expect, signIn, goto, expectAccessible, ALEX, BROWSER_HEADERS, CASEY } from "./support";

test("an admin signs in and sees the navigation", async ({ page }) => {
  await signIn(page, ALEX);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Overview" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Manage" })).toBeVisible();
  await expect(page.getByRole("banner")).toContainText("Alex Admin");
  await expect(page.getByRole("banner")).toContainText("Acme Corp");
  await expect(page.getByRole("heading", { name: "Welcome, Alex" })).toBeVisible();
  await expectAccessible(page);
});

test.describe("refused sign-in", () => {
  test.use({ expectedHttpErrors: [401] });

  test("a wrong password shows one clear message", async ({ page }) => {
    await goto(page, "/login");
    await expectAccessible(page);
    await page.getByLabel("Email").fill(ALEX);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
    await expect(page).toHaveURL(/\/login$/);
  });
});

test("an agent sees no admin navigation", async ({ page }) => {
  await signIn(page, CASEY);
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Home" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Overview" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Manage" })).toHaveCount(0);
  await expect(nav.getByRole("link", { name: "Customers" })).toHaveCount(0);
  await expect(page.getByText("This console is for Admins.")).toBeVisible();
});

test("signing out returns to the sign-in page and ends the session", async ({ page }) => {
  await signIn(page, ALEX);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await goto(page, "/admin");
  await expect(page).toHaveURL(/\/login\?next=\/admin$/);
});

test("signed-out visitors are sent to sign in", async ({ page }) => {
  await page.goto("/customers");
  await expect(page).toHaveURL(/\/login\?next=\/customers$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
});

test.describe("signing out of a session that already ended", () => {
  test.use({ expectedHttpErrors: [401] });

  test("still returns to the sign-in page", async ({ page }) => {
    await signIn(page, ALEX);
    // The session ends elsewhere (another tab signed out) while this page is open.
    const logout = await page.request.post("/api/auth/logout", {
      form: {},
      headers: { ...BROWSER_HEADERS, "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(logout.status()).toBe(200);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
  });
});

test("once a page has hydrated, later pages hydrate before their first paint", async ({ page, context }) => {
  await signIn(page, ALEX);
  const seen = (await context.cookies()).find((cookie) => cookie.name === "cdc_wasm");
  expect(seen?.value).toBe("1");
  await goto(page, "/admin");
  await expect(page.locator('script[type="module"][blocking="render"]')).toHaveCount(1);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeEnabled();
});

import { test, expect, goto, hydrated, ALEX, PASSWORD, giveAlexCustomerDataAccess } from "./support";

/** Signs in with the form on the sign-in page the browser is on now. */
async function signInHere(page: import("@playwright/test").Page) {
  await hydrated(page);
  await expect(page.getByLabel("Email")).toBeFocused();
  await page.getByLabel("Email").fill(ALEX);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test.describe("signing in goes back to where the user was going", () => {
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("a signed-out visitor to /customers signs in and lands on /customers", async ({ page }) => {
    await page.goto("/customers");
    await expect(page).toHaveURL(/\/login\?next=\/customers$/);
    await expect(page.getByRole("heading", { name: "Sign in", level: 1 })).toBeVisible();
    await signInHere(page);
    await expect(page).toHaveURL(/\/customers$/);
    await expect(page.getByRole("heading", { name: "Customers", level: 1 })).toBeVisible();
  });

  for (const hostile of ["//evil.example", "/\\evil.example", "https://evil.example/", "javascript:alert(1)"]) {
    test(`a hostile next (${hostile}) lands on the console's home`, async ({ page, baseURL }) => {
      await page.goto(`/login?next=${encodeURIComponent(hostile)}`);
      await signInHere(page);
      await expect(page).toHaveURL(`${baseURL}/`);
      await expect(page.getByRole("heading", { name: "Welcome, Alex" })).toBeVisible();
    });
  }
});

test.describe("the search field", () => {
  test.beforeEach(async ({ request }) => giveAlexCustomerDataAccess(request));

  test("is focused, says why a search is refused and ties the reason to itself", async ({ page }) => {
    await goto(page, "/login");
    await signInHere(page);
    await expect(page).toHaveURL(/\/$/);
    for (const [path, text, reason] of [
      ["/customers", "jordan@", "That email address is incomplete: there is nothing after the @."],
      ["/customers", "@acme.example", "That email address is incomplete: there is nothing before the @."],
      ["/customers", "jordan.rivera@example.com ".repeat(10), "The search text is 259 characters long"],
      ["/users", "b".repeat(250), "The search text is 250 characters long"],
    ]) {
      await goto(page, path);
      const field = page.getByRole("searchbox");
      await expect(field).toBeFocused();
      await expect(field).not.toHaveAttribute("aria-invalid");
      await field.fill(text);
      await expect(field).toHaveValue(text, { timeout: 1_000 });
      await Promise.all([page.waitForURL(/\?search=/), page.getByRole("button", { name: "Search" }).click()]);
      await hydrated(page);
      const refusal = page.getByRole("alert");
      await expect(refusal).toContainText(reason);
      await expect(page.getByRole("searchbox")).toHaveAttribute("aria-invalid", "true");
      const described = await page.getByRole("searchbox").getAttribute("aria-describedby");
      await expect(page.locator(`#${described}`)).toContainText(reason);
      await expect(page.getByRole("searchbox")).toHaveAccessibleDescription(new RegExp(reason.slice(0, 30)));
      await expect(page.getByRole("searchbox")).toBeFocused();
      await expect(page.getByRole("table")).toHaveCount(0);
    }
  });

  test("says it is searching until the results come", async ({ page }) => {
    await goto(page, "/login");
    await signInHere(page);
    await expect(page).toHaveURL(/\/$/);
    await hydrated(page);
    await goto(page, "/customers");
    // The test keeps the form from being sent (after the island has seen the click), so the page stays to be read.
    await page.evaluate(() =>
      document.querySelector('form[role="search"]')!.addEventListener("submit", (event) => event.preventDefault()),
    );
    await page.getByRole("searchbox").fill("jordan.rivera@example.com");
    const button = page.getByRole("button", { name: /^Search/ });
    await expect(button).toHaveText("Search");
    await expect(button).not.toHaveAttribute("aria-busy");
    await page.getByRole("searchbox").press("Enter");
    await expect(button).toHaveText("Searching…");
    await expect(button).toHaveAttribute("aria-busy", "true");
    await page.reload();
    await hydrated(page);
    await page.getByRole("searchbox").fill("jordan.rivera@example.com");
    await Promise.all([page.waitForURL(/\?search=/), page.getByRole("button", { name: "Search" }).click()]);
    await hydrated(page);
    await expect(page.getByText("2 records match")).toBeVisible();
    await expect(page.getByRole("button", { name: "Search", exact: true })).toBeVisible();
  });
});

import { test, expect } from "./support";
import {
  WIDTHS,
  NARROW,
  consolePages,
  open,
  openMenu,
  menuButton,
  expectNoSidewaysScroll,
  expectInsideWindow,
  type ConsolePage,
} from "./pages";

// Every page at 1280, 1024 and 390 px wide: the document never needs sideways scrolling (wide tables scroll in
// their card), and Sign out, Delete and the erasure dialog's buttons are inside the window; on a narrow window
// the navigation and Sign out are behind the Menu button.
test.describe("the console fits the window", () => {
  test.use({ expectedHttpErrors: [404] });

  let pages: ConsolePage[] = [];
  test.beforeAll(async ({ browser }) => {
    pages = await consolePages(browser);
  });

  for (const size of WIDTHS) {
    test(`at ${size.width} px wide, every page and the erasure dialog`, async ({ page }) => {
      test.setTimeout(180_000);
      await page.setViewportSize(size);
      const narrow = size.width <= NARROW;
      const signedInAs = { email: null as string | null };
      for (const target of pages) {
        const what = `${target.name} (${target.path}) at ${size.width} px`;
        await open(page, target, signedInAs);
        await expectNoSidewaysScroll(page, what);
        if (!target.as) continue;

        const signOut = page.getByRole("button", { name: "Sign out" });
        if (narrow) {
          await expect(signOut, `${what}: Sign out is behind the menu`).toBeHidden();
          await expect(page.getByRole("navigation", { name: "Main" })).toBeHidden();
          await expectInsideWindow(page, menuButton(page), `${what}: Menu`);
          await openMenu(page);
          await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Home" })).toBeVisible();
          await expectNoSidewaysScroll(page, `${what}, menu open`);
        } else {
          await expect(menuButton(page)).toBeHidden();
          await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Home" })).toBeVisible();
        }
        await expectInsideWindow(page, signOut, `${what}: Sign out`);
        if (narrow) {
          await menuButton(page).click();
          await expect(signOut).toBeHidden();
        }

        const deleteButton = page.getByRole("button", { name: "Delete", exact: true });
        if (target.name !== "customer record with data") continue;
        await expect(deleteButton).toBeEnabled();
        await expectInsideWindow(page, deleteButton, `${what}: Delete`);
        await deleteButton.click();
        const dialog = page.getByRole("dialog", { name: "Delete all call and message data?" });
        await expect(dialog).toBeVisible();
        await expectNoSidewaysScroll(page, `${what}, dialog open`);
        await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");
        for (const name of ["Cancel", "Delete all data"]) {
          await expectInsideWindow(page, dialog.getByRole("button", { name }), `${what}: the dialog's ${name}`);
        }
        await dialog.getByRole("button", { name: "Cancel" }).click();
        await expect(dialog).toBeHidden();
        await expect(deleteButton).toBeFocused();
      }
    });
  }

  test("a wide table scrolls inside its card, not the page", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    const signedInAs = { email: null as string | null };
    await open(page, pages.find((p) => p.name === "customer search with results")!, signedInAs);
    const table = page.getByRole("region", { name: "Matching records" });
    const { scrollWidth, clientWidth } = await table.evaluate((el) => ({
      scrollWidth: el.scrollWidth,
      clientWidth: el.clientWidth,
    }));
    expect(scrollWidth).toBeGreaterThan(clientWidth);
    await expectNoSidewaysScroll(page, "the results at 390 px");
    await table.focus();
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => table.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
  });
});

test.describe("the menu without the wasm", () => {
  test.use({ javaScriptEnabled: false });

  test("opens on a narrow window and shows the navigation and Sign out", async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto("/login");
    await page.getByLabel("Email").fill("alex.admin@acme.example");
    await page.getByLabel("Password").fill("demo-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/$/);
    await page.goto("/users");
    await expectNoSidewaysScroll(page, "the users list without the wasm");
    await expect(page.getByRole("button", { name: "Sign out" })).toBeHidden();
    await menuButton(page).click();
    await expectInsideWindow(page, page.getByRole("button", { name: "Sign out" }), "Sign out without the wasm");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" }).click();
    await expect(page.getByRole("heading", { name: "Admin Console", level: 1 })).toBeVisible();
    await expectNoSidewaysScroll(page, "the Admin Console without the wasm");
  });
});

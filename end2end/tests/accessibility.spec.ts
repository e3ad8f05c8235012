import AxeBuilder from "@axe-core/playwright";
import { test, expect, type Page } from "./support";
import { consolePages, open, openMenu, NARROW, type ConsolePage } from "./pages";

/** Every axe-core violation on what the page shows now, of any impact, as readable lines. */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.map(
    (v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
  );
}

// axe-core finds nothing, of any impact, on every page (error and refusal pages included), with the menu open
// on a narrow window and with the erasure dialog open; and every page has exactly one <h1>.
test.describe("every page is accessible", () => {
  test.use({ expectedHttpErrors: [404] });

  let pages: ConsolePage[] = [];
  test.beforeAll(async ({ browser }) => {
    pages = await consolePages(browser);
  });

  for (const size of [
    { width: 1280, height: 900 },
    { width: 390, height: 844 },
  ]) {
    test(`at ${size.width} px wide, axe finds no violation and each page has one <h1>`, async ({ page }) => {
      // Every page of the console, each checked with axe (and at 390 px with its menu open): minutes on a
      // 2-core machine.
      test.setTimeout(360_000);
      await page.setViewportSize(size);
      const signedInAs = { email: null as string | null };
      for (const target of pages) {
        const what = `${target.name} (${target.path}) at ${size.width} px`;
        await open(page, target, signedInAs);
        await expect(page.locator("h1"), `${what}: one <h1>`).toHaveCount(1);
        expect(await violations(page), what).toEqual([]);
        if (target.as && size.width <= NARROW) {
          await openMenu(page);
          expect(await violations(page), `${what}, menu open`).toEqual([]);
        }
        if (target.name === "customer record with data") {
          await page.goto(target.path);
          await page.getByRole("button", { name: "Delete", exact: true }).click();
          const dialog = page.getByRole("dialog", { name: "Delete all call and message data?" });
          await expect(dialog).toBeVisible();
          expect(await violations(page), `${what}, dialog open`).toEqual([]);
          await dialog.getByLabel("Type DELETE to confirm").fill("DELETE");
          expect(await violations(page), `${what}, dialog ready to confirm`).toEqual([]);
          await page.keyboard.press("Escape");
          await expect(dialog).toBeHidden();
        }
      }
    });
  }
});

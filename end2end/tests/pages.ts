import { expect, request as requests, type Browser, type Page } from "@playwright/test";
import { apiAs, hydrated, search, signIn, ALEX, BLAIR, CASEY, JORDAN } from "./support";

/** The window sizes the console must fit: two desktop widths and a phone's. */
export const WIDTHS = [
  { width: 1280, height: 900 },
  { width: 1024, height: 768 },
  { width: 390, height: 844 },
];

/** Below this width the navigation and the user's menu are behind the Menu button. */
export const NARROW = 900;

/** A page of the console and who opens it (`null`: signed out). */
export interface ConsolePage {
  name: string;
  path: string;
  as: string | null;
}

/** The record with markup in its name: it has a message and no test erases it, so it always offers Delete. */
export const PROBE = "xss.probe@example.com";

/**
 * Every kind of page: sign-in, home, the Admin Console, the users list and a profile, a customer search with
 * results, customer records (one with data, one that may be erased by an earlier spec), a 404 and refusals.
 * The ids are looked up as Alex, who is given customer-data access.
 */
export async function consolePages(browser: Browser): Promise<ConsolePage[]> {
  const request = await requests.newContext({ baseURL: process.env.E2E_BASE_URL ?? "http://127.0.0.1:3100" });
  const alex = await apiAs(request, ALEX);
  await alex.setAccountSetting(true);
  await alex.setPermission(await alex.userId(ALEX), true);
  const blair = await alex.userId(BLAIR);
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, ALEX);
  await search(page, "/customers", PROBE);
  const probe = await page.getByRole("link", { name: /Robin/ }).getAttribute("href");
  await search(page, "/customers", JORDAN);
  const results = new URL(page.url()).pathname + new URL(page.url()).search;
  const contact = await page
    .getByRole("row")
    .filter({ hasText: "Contact" })
    .getByRole("link", { name: "Jordan Rivera" })
    .getAttribute("href");
  await context.close();
  await request.dispose();
  return [
    { name: "sign-in", path: "/login", as: null },
    { name: "404", path: "/no-such-page", as: null },
    { name: "home", path: "/", as: ALEX },
    { name: "Admin Console", path: "/admin", as: ALEX },
    { name: "users", path: "/users", as: ALEX },
    { name: "user profile", path: `/users/${blair}`, as: ALEX },
    { name: "customer search with results", path: results, as: ALEX },
    { name: "customer record", path: contact!, as: ALEX },
    { name: "customer record with data", path: probe!, as: ALEX },
    { name: "audit log", path: "/audit", as: ALEX },
    { name: "suppression list", path: "/suppressions", as: ALEX },
    { name: "API tokens", path: "/admin/tokens", as: ALEX },
    { name: "refusal: Admin Console for an Agent", path: "/admin", as: CASEY },
    { name: "refusal: customer record for an Agent", path: probe!, as: CASEY },
  ];
}

/** Opens `target` as its user in `page` (signing in first when the user changes). */
export async function open(page: Page, target: ConsolePage, signedInAs: { email: string | null }) {
  if (target.as !== signedInAs.email) {
    await page.context().clearCookies();
    if (target.as) await signIn(page, target.as);
    signedInAs.email = target.as;
  }
  await page.goto(target.path);
  await hydrated(page);
}

/** The Menu button that shows the navigation and the user's menu on a narrow window. */
export function menuButton(page: Page) {
  return page.getByRole("banner").getByText("Menu", { exact: true });
}

/** Opens the Menu on a narrow window (on a wide one the navigation is always shown). */
export async function openMenu(page: Page) {
  if ((page.viewportSize()?.width ?? 0) > NARROW) return;
  await menuButton(page).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}

/** The document is no wider than the window: nothing needs sideways scrolling. */
export async function expectNoSidewaysScroll(page: Page, what: string) {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(scrollWidth, `${what}: the document is ${scrollWidth} px wide in a ${innerWidth} px window`).toBeLessThanOrEqual(
    innerWidth,
  );
}

/** The element is wholly inside the window once scrolled to (vertically only: nothing scrolls sideways). */
export async function expectInsideWindow(page: Page, locator: ReturnType<Page["locator"]>, what: string) {
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  const { innerWidth, innerHeight } = await page.evaluate(() => ({
    innerWidth: window.innerWidth,
    innerHeight: window.innerHeight,
  }));
  expect(box, `${what} is shown`).not.toBeNull();
  const inside = box!.x >= 0 && box!.y >= 0 && box!.x + box!.width <= innerWidth && box!.y + box!.height <= innerHeight;
  expect(inside, `${what} at ${JSON.stringify(box)} in a ${innerWidth}x${innerHeight} window`).toBe(true);
}

// Each person's journey through the pages, checked as a person sees them: what the page says,
// that axe-core finds no serious or critical accessibility violation, and a screenshot of
// every page, on a phone and on a desktop.
import { test, expect } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

const artifacts = process.env.ZHIYUAN_ARTIFACTS;
const volunteerPassword = process.env.ZHIYUAN_VOLUNTEER_PASSWORD;

/** Screenshot of the page as it is, and its accessibility checked. */
async function look(page, testInfo, name) {
  await page.screenshot({
    path: `${artifacts}/screenshots/${testInfo.project.name}-${name}.png`,
    fullPage: true,
  });
  const { violations } = await new AxeBuilder({ page }).analyze();
  const grave = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(grave.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(", ")})`)).toEqual([]);
}

async function signIn(page, username, password) {
  await page.goto("/signin");
  await page.getByLabel("城市").selectOption("421300");
  await page.getByLabel("用户名").fill(username);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录" }).click();
}

test("a visitor sees the cities in Chinese and switches to English and back", async ({ page }, testInfo) => {
  await page.goto("/");
  await expect(page).toHaveTitle(/志愿服务信息系统/);
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
  await expect(page.getByRole("listitem").filter({ hasText: "随州市" })).toBeVisible();
  await look(page, testInfo, "home");

  await page.getByRole("link", { name: "English" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Volunteer Service");
  await look(page, testInfo, "home-en");
  await page.getByRole("link", { name: "中文" }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
});

test("a volunteer signs in, reads their record and shows their card", async ({ page }, testInfo) => {
  await page.goto("/signin");
  await look(page, testInfo, "signin");
  await signIn(page, "volunteer", volunteerPassword);

  await expect(page).toHaveURL(/\/me$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("我的志愿服务");
  await expect(page.getByText("张三")).toBeVisible();
  await expect(page.getByText("已注册")).toBeVisible();
  // The identity number is masked: its middle never reaches the page.
  const id = await page.locator("dt:has-text('证件号码') + dd").innerText();
  expect(id).toMatch(/^\S{3,6}\*+\S{2,4}$/);
  await look(page, testInfo, "me");

  await page.getByRole("link", { name: "我的志愿者证" }).click();
  await expect(page).toHaveURL(/\/me\/card$/);
  const qr = page.getByRole("img", { name: "志愿者证二维码" });
  await expect(qr).toBeVisible();
  expect((await qr.boundingBox()).width).toBeGreaterThan(150);
  await look(page, testInfo, "card");

  await page.getByRole("button", { name: "退出登录" }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.goto("/me");
  await expect(page).toHaveURL(/\/signin$/);
});

test("a wrong password is refused on the form, which keeps what was typed", async ({ page }, testInfo) => {
  await signIn(page, "volunteer", "not-the-password");
  await expect(page.getByRole("alert")).toHaveText("用户名或密码不正确。");
  await expect(page.getByLabel("用户名")).toHaveValue("volunteer");
  await expect(page.getByLabel("密码")).toHaveValue("");
  await look(page, testInfo, "signin-refused");
});

test("a form posted from elsewhere, without the page's token, is refused", async ({ request }) => {
  const answer = await request.post("/signin", {
    form: { csrf: "x".repeat(43), tenant: "421300", username: "volunteer", password: volunteerPassword },
    maxRedirects: 0,
  });
  expect(answer.status()).toBe(403);
  expect(answer.headers()["set-cookie"] ?? "").not.toContain("zhiyuan_session=");
});

// The browser screens of `double-random serve`, driven in headless
// Chromium: the ceremony (commitment, seed, draw, summary, download), a
// bad input's position on the page, public verification of a published
// draw and of a tampered one, the fairness picture, and English.
//
//   node ceremony.cjs BINARY FIXTURES   (playwright-core on NODE_PATH, Chromium at /usr/bin/chromium)
"use strict";
const { chromium } = require("playwright-core");
const { spawn, execFileSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const assert = require("assert");

const [bin, fixtures] = process.argv.slice(2);
const SEED = "2027-03-01 lottery 0417 2953";
const work = fs.mkdtempSync(path.join(os.tmpdir(), "dr-browser-"));
const inputs = ["commitment.json", "plan.json", "entities.csv", "items.csv", "history.csv", "directed.csv", "calendar.csv", "inspectors.csv", "conflicts.csv"];
for (const f of inputs) fs.copyFileSync(path.join(fixtures, f), path.join(work, f));
// A second plan whose entity file has a bad risk class on line 3.
const bad = fs.readFileSync(path.join(fixtures, "entities.csv"), "utf8").split("\n");
const cols = bad[0].split(",");
const row = bad[2].split(",");
row[cols.indexOf("risk_class")] = "E";
bad[2] = row.join(",");
fs.writeFileSync(path.join(work, "entities-bad.csv"), bad.join("\n"));
const badPlan = JSON.parse(fs.readFileSync(path.join(fixtures, "plan.json"), "utf8"));
badPlan.inputs.entities = "entities-bad.csv";
fs.writeFileSync(path.join(work, "bad.json"), JSON.stringify(badPlan, null, 2));

let checks = 0;
function ok(what) { checks++; console.log("ok: " + what); }

(async () => {
  const server = spawn(bin, ["serve", "--dir", work, "--addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"] });
  const base = await new Promise((resolve, reject) => {
    server.stdout.on("data", d => { const m = /serving (http:\/\/\S+)/.exec(String(d)); if (m) resolve(m[1]); });
    server.on("exit", code => reject(new Error("serve exited with " + code)));
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    page.on("pageerror", e => console.error("page error: " + e.message));
    page.on("console", m => { if (m.type() === "error") console.error("console: " + m.text()); });

    // The ceremony: the commitment shown is the one `commit` computes.
    await page.goto(base + "/");
    await page.waitForFunction(() => document.querySelector("#plan").options.length > 1);
    await page.selectOption("#plan", "plan.json");
    await page.waitForSelector("#frame-digest");
    const committed = JSON.parse(execFileSync(bin, ["commit", "--plan", path.join(work, "plan.json")]));
    assert.strictEqual(await page.textContent("#frame-digest"), committed.frame_sha256);
    ok("the page shows the commitment's frame digest");
    assert.strictEqual(await page.textContent("#published"), "输入文件与已公布的承诺一致：commitment.json");
    ok("the inputs are shown to match the published commitment");
    assert.strictEqual(await page.textContent("header h1"), "双随机、一公开 抽查");
    ok("the page is in Chinese");

    await page.fill("#seed", SEED);
    await page.click("#run-draw");
    await page.waitForSelector("#summary");
    const record = JSON.parse(fs.readFileSync(path.join(work, "draws/plan-1/record.json"), "utf8"));
    assert.ok(record.tasks[0].commitment, "the draw was checked against the published commitment");
    assert.strictEqual(await page.textContent("#visits"), String(record.visits));
    const rows = await page.$$eval("#summary tr", trs => trs.length);
    assert.strictEqual(rows, 1 + record.tasks[0].departments.length * 4);
    ok("the draw's summary is on the page, per department and class");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click('#downloads a:text-is("selection.csv")'),
    ]);
    const saved = path.join(work, "downloaded-selection.csv");
    await download.saveAs(saved);
    assert.ok(fs.readFileSync(saved).equals(fs.readFileSync(path.join(fixtures, "golden/selection.csv"))));
    ok("the downloaded selection.csv is the golden selection");
    const [xlsx] = await Promise.all([page.waitForEvent("download"), page.click('#downloads a:text-is("outputs.xlsx")')]);
    assert.strictEqual(xlsx.suggestedFilename(), "outputs.xlsx");
    ok("outputs.xlsx downloads");

    // A bad input: its position, in Chinese, on the page.
    await page.selectOption("#plan", "bad.json");
    await page.waitForSelector("#commitment .error");
    const message = await page.textContent("#commitment .error");
    assert.ok(message.startsWith("entities-bad.csv，第 3 行，字段 risk_class："), message);
    ok("a bad input is named by file, line and field on the page");

    // Public verification: the published files verify; a tampered one is named.
    const published = path.join(work, "published");
    fs.mkdirSync(published);
    const outDir = path.join(work, "draws/plan-1");
    for (const f of fs.readdirSync(outDir)) fs.copyFileSync(path.join(outDir, f), path.join(published, f));
    for (const f of inputs) fs.copyFileSync(path.join(work, f), path.join(published, f));
    const files = fs.readdirSync(published).map(f => path.join(published, f));
    await page.goto(base + "/verify");
    await page.setInputFiles("#files", files);
    await page.click("#run-verify");
    await page.waitForSelector("#verdict");
    assert.strictEqual(await page.textContent("#verdict"), "验证通过");
    ok("the published draw verifies on the page");

    const visits = path.join(published, "visits.csv");
    fs.writeFileSync(visits, fs.readFileSync(visits, "utf8").replace("2027-", "2028-"));
    await page.goto(base + "/verify");
    await page.setInputFiles("#files", files);
    await page.click("#run-verify");
    await page.waitForSelector("#verdict");
    assert.ok((await page.textContent("#verdict")).startsWith("验证未通过"));
    const diffs = await page.$$eval(".diff", ds => ds.map(d => d.textContent));
    // In the page's language, with the file, line and character.
    assert.ok(diffs.some(d => /^visits\.csv，第 \d+ 行，第 \d+ 个字符起：应为 .*2027-.*，实为 .*2028-/.test(d)), diffs.join("\n"));
    ok("a tampered visits.csv is reported on the page");

    // Fairness: the report's picture.
    await page.goto(base + "/fairness");
    await page.waitForFunction(() => document.querySelector("#fplan").options.length > 0);
    await page.selectOption("#fplan", "plan.json");
    await page.fill("#runs", "20");
    await page.click("#run-fairness");
    await page.waitForSelector("#fairness-svg");
    const width = await page.$eval("#fairness-svg", img => img.complete ? img.naturalWidth : 0);
    assert.ok(width > 0);
    ok("the fairness report's picture is on the page");

    // English.
    await page.goto(base + "/?lang=en");
    assert.strictEqual(await page.textContent("header h1"), "Double random, one public");
    await page.waitForSelector("#commitment .error");
    assert.ok((await page.textContent("#commitment .error")).startsWith("entities-bad.csv, line 3, field risk_class: "));
    ok("the page is in English with ?lang=en");

    // Nothing outside the working folder: a path out of draws/ is not served.
    const escape = await page.request.get(base + "/download/..%2F..%2Fetc/passwd");
    assert.strictEqual(escape.status(), 404);
    ok("a path outside the working folder is refused");
  } finally {
    await browser.close();
    server.kill();
  }
  console.log(`all ${checks} checks passed`);
})().catch(e => { console.error(e); process.exit(1); });

// Browser tests of a built (or render_theme-rendered) site.
//
//   node theme.mjs SITE_DIR PAGE...      (PAGE relative to SITE_DIR)
//
// Opens every page over file:// in headless Chromium (CHROMIUM, default
// /usr/bin/chromium) at 1280px and 375px, saves full-page screenshots in
// SCREENSHOTS (default tests/out/screenshots), and checks:
//   - the stylesheet is applied (file:// + the page's CSP work together)
//   - axe-core finds no serious or critical violation
//   - no request leaves the disk (only file: and data: URLs)
//   - no Content-Security-Policy violation is reported
//   - nothing is wider than a 375px phone screen
//   - html-validate reports no error (config: .htmlvalidate.json here)
// plus, on the first page with a document-control block, the print
// stylesheet (navigation hidden, document control first).
// Ends with "N passed, N failed"; exit status 1 on any failure.
import { readFileSync, mkdirSync, existsSync } from "node:fs";
import { resolve, dirname, basename } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
let passed = 0, failed = 0;

function check(ok, what, detail) {
	if (ok) {
		passed++;
		console.log(`ok   ${what}`);
	} else {
		failed++;
		console.log(`FAIL ${what}${detail ? "\n     " + detail.split("\n").join("\n     ") : ""}`);
	}
}

function finish() {
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}

const [siteArg, ...pages] = process.argv.slice(2);
if (!siteArg || pages.length === 0) {
	console.error("usage: node theme.mjs SITE_DIR PAGE...");
	process.exit(2);
}
const site = resolve(siteArg);
const shots = resolve(process.env.SCREENSHOTS || resolve(here, "../out/screenshots"));
mkdirSync(shots, { recursive: true });
const exe = process.env.CHROMIUM || "/usr/bin/chromium";
if (!existsSync(exe)) {
	check(false, `chromium at ${exe}`, "chromium is missing: install the chromium package or set CHROMIUM");
	finish();
}

const { chromium } = await import("playwright-core");
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const { HtmlValidate } = await import("html-validate");
const hv = new HtmlValidate(JSON.parse(readFileSync(resolve(here, ".htmlvalidate.json"), "utf8")));

const browser = await chromium.launch({
	executablePath: exe,
	headless: true,
	args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run"],
});

let printChecked = false;
try {
	for (const rel of pages) {
		const file = resolve(site, rel);
		const name = rel.replace(/\.html$/, "").replace(/[\/\\]/g, "_");
		if (!existsSync(file)) {
			check(false, `${rel}: exists`);
			continue;
		}
		const report = await hv.validateString(readFileSync(file, "utf8"), file);
		const msgs = report.results.flatMap(r => r.messages)
			.filter(m => m.severity === 2)
			.map(m => `${basename(file)}:${m.line}:${m.column}: ${m.ruleId}: ${m.message}`);
		check(report.valid || msgs.length === 0, `${rel}: html-validate`, msgs.join("\n"));

		for (const width of [1280, 375]) {
			const tag = `${rel} @${width}px`;
			const context = await browser.newContext({
				viewport: { width, height: 900 },
				deviceScaleFactor: 1,
				locale: "ja-JP",
			});
			const outside = [], csp = [];
			await context.route(/^(https?|wss?|ftp):/, route => route.abort());
			const page = await context.newPage();
			page.on("request", r => {
				if (!/^(file|data):/.test(r.url()))
					outside.push(r.url());
			});
			page.on("console", m => {
				if (/Content Security Policy|Refused to/i.test(m.text()))
					csp.push(m.text());
			});
			await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
			const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
			check(/Hiragino|Noto Sans CJK JP/.test(font), `${tag}: stylesheet applied`, `font-family: ${font}`);
			await page.screenshot({ path: resolve(shots, `${name}-${width}.png`), fullPage: true });

			await page.evaluate(axeSource);
			const axe = await page.evaluate(async () => {
				const r = await window.axe.run(document, { resultTypes: ["violations"] });
				return r.violations.map(v => ({
					id: v.id, impact: v.impact, help: v.help,
					nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
				}));
			});
			const bad = axe.filter(v => v.impact === "serious" || v.impact === "critical");
			for (const v of axe.filter(v => !bad.includes(v)))
				console.log(`note ${tag}: axe ${v.impact} ${v.id}: ${v.help}`);
			check(bad.length === 0, `${tag}: axe (no serious/critical)`,
				bad.map(v => `${v.impact} ${v.id}: ${v.help} [${v.nodes.join(", ")}]`).join("\n"));

			if (width === 375) {
				const over = await page.evaluate(() => {
					const vw = document.documentElement.clientWidth;
					const wide = [];
					for (const el of document.querySelectorAll("body *")) {
						const r = el.getBoundingClientRect();
						if (r.right > vw + 1 && getComputedStyle(el).position !== "fixed" &&
						    !el.closest(".table-wrap, pre, .doc-body table"))
							wide.push(el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
					}
					return { scroll: document.documentElement.scrollWidth, vw, wide: wide.slice(0, 5) };
				});
				check(over.scroll <= over.vw && over.wide.length === 0, `${tag}: fits the screen`,
					`scrollWidth ${over.scroll} > ${over.vw}: ${over.wide.join(", ")}`);
				const nav = await page.evaluate(() => {
					const d = document.querySelector("[data-nav-drawer]");
					return d ? d.open : null;
				});
				if (nav !== null)
					check(nav === false, `${tag}: navigation collapsed`);
			}

			if (width === 1280 && !printChecked && await page.$(".doccontrol")) {
				printChecked = true;
				await page.emulateMedia({ media: "print" });
				const pr = await page.evaluate(() => {
					const vis = s => { const e = document.querySelector(s); return e ? getComputedStyle(e).display !== "none" : null; };
					const dc = document.querySelector(".doccontrol").getBoundingClientRect().top;
					const body = document.querySelector(".doc-body").getBoundingClientRect().top;
					return { nav: vis(".nav-drawer"), search: vis(".search-box"), footer: vis(".print-footer"), first: dc < body };
				});
				check(pr.nav !== true && pr.search !== true, `${rel}: print hides navigation and search`);
				check(pr.first, `${rel}: print puts document control before the text`);
				check(pr.footer !== false, `${rel}: print shows site.print_footer`);
				await page.screenshot({ path: resolve(shots, `${name}-print.png`), fullPage: true });
				await page.emulateMedia({ media: "screen", colorScheme: "dark" });
				await page.screenshot({ path: resolve(shots, `${name}-dark.png`), fullPage: true });
				await page.emulateMedia({ media: "screen", colorScheme: "light" });
			}
			check(outside.length === 0, `${tag}: no request leaves the disk`, outside.join("\n"));
			check(csp.length === 0, `${tag}: no CSP violation`, csp.join("\n"));
			await context.close();
		}
	}
} catch (e) {
	check(false, "browser run", String(e && e.stack || e));
} finally {
	await browser.close();
}
finish();

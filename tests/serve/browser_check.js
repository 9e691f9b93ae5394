// Drives headless Chromium over the DevTools pipe (no WebSocket needed)
// to check tebiki serve's overlay and reload in a real browser:
//   node browser_check.js CHROMIUM URL EXPECTED FIX_FROM FIX_TO
// Opens URL (served while the build is broken), waits for the error
// overlay to contain EXPECTED, copies FIX_FROM over FIX_TO (the fix) and
// waits for the page to reload without the overlay.  Prints "ok - ..." /
// "FAIL - ..." lines; exit status 1 on a failure.  Every wait is bounded.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [chromium, url, expected, fixFrom, fixTo] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "tebiki-chromium-"));
const browser = spawn(chromium, ["--headless", "--no-sandbox", "--disable-gpu",
	"--no-first-run", "--remote-debugging-pipe", "--user-data-dir=" + profile,
	"about:blank"], { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });
const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
let nextId = 1, pending = new Map(), inbuf = "", failed = 0;

fromBrowser.on("data", (chunk) => {
	inbuf += chunk.toString("utf8");
	let i;
	while ((i = inbuf.indexOf("\0")) >= 0) {
		const msg = JSON.parse(inbuf.slice(0, i));
		inbuf = inbuf.slice(i + 1);
		if (msg.id && pending.has(msg.id)) {
			pending.get(msg.id)(msg);
			pending.delete(msg.id);
		}
	}
});
function send(method, params, sessionId) {
	const id = nextId++;
	const msg = { id, method, params: params || {} };
	if (sessionId) msg.sessionId = sessionId;
	return new Promise((resolve) => {
		pending.set(id, resolve);
		toBrowser.write(JSON.stringify(msg) + "\0");
	});
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function check(name, cond, detail) {
	console.log((cond ? "ok - " : "FAIL - ") + name + (cond || !detail ? "" : "\n    " + detail));
	if (!cond) failed++;
}
async function evaluate(session, expr) {
	const r = await send("Runtime.evaluate", { expression: expr, returnByValue: true }, session);
	return r.result && r.result.result ? r.result.result.value : undefined;
}
// Polls `expr` until `ok(value)` or `ms` pass; returns the last value.
async function until(session, expr, ok, ms) {
	let v;
	for (let t = 0; t < ms; t += 200) {
		v = await evaluate(session, expr).catch(() => undefined);
		if (ok(v)) return v;
		await sleep(200);
	}
	return v;
}

async function main() {
	const overlay = "(function(){var e=document.getElementById('tebiki-error');" +
		"return e?e.textContent:'';})()";
	const t = await send("Target.createTarget", { url });
	const a = await send("Target.attachToTarget", { targetId: t.result.targetId, flatten: true });
	const s = a.result.sessionId;
	let v = await until(s, overlay, (x) => typeof x === "string" && x.includes(expected), 15000);
	check("browser shows the error overlay", typeof v === "string" && v.includes(expected), "overlay: " + JSON.stringify(v));
	const content = await evaluate(s, "document.body ? document.body.textContent : ''");
	check("last good page under the overlay", typeof content === "string" && content.length > 0);
	await evaluate(s, "window.__tebikiMarker = 1");
	fs.copyFileSync(fixFrom, fixTo);
	v = await until(s, "typeof window.__tebikiMarker + ':' + " + overlay,
		(x) => x === "undefined:", 15000);
	check("page reloads without the overlay after the fix", v === "undefined:", "state: " + JSON.stringify(v));
}

const guard = setTimeout(() => { check("browser check finished in time", false); finish(); }, 45000);
let exited = false;
browser.on("exit", () => { exited = true; });
async function finish() {
	clearTimeout(guard);
	// close politely (so its helpers go too), then insist
	if (!exited) toBrowser.write(JSON.stringify({ id: nextId++, method: "Browser.close" }) + "\0");
	for (let i = 0; i < 30 && !exited; i++) await sleep(100);
	if (!exited) browser.kill("SIGKILL");
	try {
		fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
	} catch (e) { /* a helper still writing: left in the test's TMPDIR */ }
	process.exit(failed ? 1 : 0);
}
main().then(finish, (e) => { check("browser check ran", false, String(e)); finish(); });

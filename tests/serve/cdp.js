// Headless Chromium over the DevTools pipe (no WebSocket needed), for the
// serve checks that need a real browser.
//   const cdp = require("./cdp.js");
//   cdp.run(chromium, async (b) => { const s = await b.open(url); ... }, ms)
// run() starts the browser with a fresh profile, calls the function, and
// ends the process: exit status 1 when a check failed, the function threw,
// or it did not finish within `ms`.  b.check(name, cond, detail) prints
// "ok - name" / "FAIL - name"; b.evaluate(session, expr) gives the
// expression's value (awaiting a promise); b.until(session, expr, ok, ms)
// polls it every 200 ms until ok(value) and returns the last value.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function run(chromium, body, ms) {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), "tebiki-chromium-"));
	const browser = spawn(chromium, ["--headless", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--remote-debugging-pipe", "--user-data-dir=" + profile,
		"about:blank"], { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });
	const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
	let nextId = 1, inbuf = "", failed = 0, exited = false;
	const pending = new Map();

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
	const b = {
		send,
		check(name, cond, detail) {
			console.log((cond ? "ok - " : "FAIL - ") + name + (cond || !detail ? "" : "\n    " + detail));
			if (!cond) failed++;
		},
		async evaluate(session, expr) {
			const r = await send("Runtime.evaluate", { expression: expr, returnByValue: true,
				awaitPromise: true }, session);
			return r.result && r.result.result ? r.result.result.value : undefined;
		},
		async until(session, expr, ok, ms) {
			let v;
			for (let t = 0; t < ms; t += 200) {
				v = await b.evaluate(session, expr).catch(() => undefined);
				if (ok(v)) return v;
				await sleep(200);
			}
			return v;
		},
		// a new tab on `url`; returns its session
		async open(url) {
			const t = await send("Target.createTarget", { url });
			const a = await send("Target.attachToTarget", { targetId: t.result.targetId, flatten: true });
			return a.result.sessionId;
		},
	};
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
	const guard = setTimeout(() => { b.check("browser check finished in time", false); finish(); }, ms);
	body(b).then(finish, (e) => { b.check("browser check ran", false, String(e)); finish(); });
}

module.exports = { run, sleep };

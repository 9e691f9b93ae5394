// make bench: how long after saving a page `tebiki serve` serves it, and
// how long until the whole site is rebuilt.
//   node serve_edit.mjs SOURCE.md SERVED.html SERVE_LOG RUNS
// Appends a new line to SOURCE.md RUNS + 1 times (the first is a warm-up:
// the server's second build writes a new directory), each time waiting
// for SERVED.html to contain it and for the log's next "rebuilt after".
// Prints "page_ms site_ms" (medians, milliseconds).
import fs from "node:fs";

const [src, served, log, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 3);
const now = () => Number(process.hrtime.bigint()) / 1e6;
// builds so far: the log is read from where the last call stopped (it
// holds every build's warnings, megabytes at 10,000 pages)
let logOff = 0, logBuilds = 0, logTail = "";
const builds = () => {
	const fd = fs.openSync(log, "r");
	const size = fs.fstatSync(fd).size;
	if (size > logOff) {
		const b = Buffer.alloc(size - logOff);
		fs.readSync(fd, b, 0, b.length, logOff);
		logOff = size;
		const text = logTail + b.toString("latin1");
		const lines = text.split("\n");
		logTail = lines.pop();
		for (const l of lines) if (l.includes("rebuilt after")) logBuilds++;
	}
	fs.closeSync(fd);
	return logBuilds;
};
const has = (file, s) => { try { return fs.readFileSync(file, "utf8").includes(s); } catch { return false; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (v) => { v = [...v].sort((a, b) => a - b); const n = v.length; return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2; };

const page = [], site = [];
for (let i = 0; i <= runs; i++) {
	const mark = `serve-bench-${process.pid}-${i}`;
	const b0 = builds(), t0 = now();
	fs.appendFileSync(src, `\n${mark}\n`);
	let t1 = -1;
	for (;;) {
		if (t1 < 0 && has(served, mark)) t1 = now();
		if (builds() > b0) break;
		if (now() - t0 > 300000) { console.error("no rebuild within 300 s"); process.exit(1); }
		await sleep(t1 < 0 ? 1 : 20);
	}
	const t2 = now();
	if (t1 < 0 && has(served, mark)) t1 = t2;
	if (i > 0) { page.push(t1 - t0); site.push(t2 - t0); }
	await sleep(300);
}
console.log(`${median(page).toFixed(0)} ${median(site).toFixed(0)}`);

// Runs tebiki serve's reload.js against a stand-in DOM and EventSource
// and checks what it does with each event.
//   node reload_check.js RELOAD_JS ERROR_EVENT_DATA
// Prints "ok - ..." / "FAIL - ..." lines; exit status 1 on a failure.
"use strict";
const fs = require("fs");
const vm = require("vm");

const code = fs.readFileSync(process.argv[2], "utf8");
const errData = process.argv[3];
let failed = 0;
function check(name, cond) {
	console.log((cond ? "ok - " : "FAIL - ") + name);
	if (!cond) failed++;
}

// One page load: returns the world the script saw.
function load(pageGen, pathname, withSearch) {
	const w = { reloads: 0, appended: [], sources: [] };
	class Elem {
		constructor(tag) { this.tag = tag; this.style = {}; this.attrs = {}; this.textContent = ""; }
		setAttribute(k, v) { this.attrs[k] = String(v); }
		getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
		appendChild(c) { w.appended.push(c); return c; }
	}
	const script = new Elem("script");
	const searchScript = new Elem("script");
	searchScript.setAttribute("src", "../search/manifest.js");
	if (pageGen !== null) script.setAttribute("data-gen", pageGen);
	const body = new Elem("body");
	class EventSource {
		constructor(url) { this.url = url; this.handlers = {}; this.closed = false; w.sources.push(this); }
		addEventListener(t, f) { (this.handlers[t] = this.handlers[t] || []).push(f); }
		close() { this.closed = true; }
		fire(t, ev) { (this.handlers[t] || []).forEach((f) => f(ev)); }
	}
	const ctx = {
		document: { currentScript: script, body, documentElement: body,
			head: body, createElement: (t) => new Elem(t),
			querySelector: (q) => q === 'script[src$="search/manifest.js"]' && withSearch ? searchScript : null },
		location: { pathname: pathname || "/notes/plain.html", reload() { w.reloads++; } },
		EventSource, JSON, String, decodeURIComponent,
	};
	ctx.window = ctx;
	vm.runInNewContext(code, ctx);
	w.es = w.sources[0];
	w.overlay = () => w.appended.find((e) => e.attrs.role === "alert");
	return w;
}

let w = load("1");
check("opens /__tebiki/events", w.es && w.es.url === "/__tebiki/events");
w.es.fire("hello", { data: '{"gen":1,"error":null}' });
check("same generation: no reload", w.reloads === 0);
check("no error: no overlay", !w.overlay());
w.es.fire("error", { type: "error" });
check("connection error ignored", !w.overlay() && w.reloads === 0);
w.es.fire("error", { data: errData });
const text = JSON.parse(errData).text;
check("error event shows an overlay", !!w.overlay());
check("overlay shows the diagnostics", w.overlay() && w.overlay().textContent.includes(text));
check("overlay fixed on top", w.overlay() && w.overlay().style.position === "fixed");
check("error does not reload", w.reloads === 0);
w.es.fire("reload", { data: '{"gen":2}' });
check("reload event reloads", w.reloads === 1 && w.es.closed);

w = load("1");
w.es.fire("hello", { data: '{"gen":3,"error":null}' });
check("newer generation on connect reloads", w.reloads === 1);

w = load("2");
w.es.fire("hello", { data: JSON.stringify({ gen: 2, error: text }) });
check("hello with an error shows the overlay", w.overlay() && w.overlay().textContent.includes(text));
check("hello with an error does not reload", w.reloads === 0);
// a reload that names pages: only those reload
w = load("4", "/policies/backup.html");
w.es.fire("reload", { data: '{"gen":5,"paths":["notes/plain.html"]}' });
check("reload naming other pages: no reload", w.reloads === 0 && !w.es.closed);
w.es.fire("hello", { data: '{"gen":5,"error":null}' });
check("... and the generation is taken as seen", w.reloads === 0);
w.es.fire("reload", { data: '{"gen":6,"paths":["index.html","policies/backup.html"]}' });
check("reload naming this page reloads", w.reloads === 1 && w.es.closed);
w = load("4", "/");
w.es.fire("reload", { data: '{"gen":5,"paths":["index.html"]}' });
check("'/' is index.html", w.reloads === 1);
w = load("4", "/%E6%89%8B%E9%A0%86/");
w.es.fire("reload", { data: '{"gen":5,"paths":["手順/index.html"]}' });
check("a directory is its index.html, decoded", w.reloads === 1);
w = load("4", "/policies/backup.html");
w.es.fire("reload", { data: '{"gen":5}' });
check("reload without paths reloads every page", w.reloads === 1);
// the index changed, the page did not: its search box gets the new manifest
w = load("4", "/policies/backup.html", true);
w.es.fire("reload", { data: '{"gen":7,"paths":["search.html","search/manifest.js"]}' });
const added = w.appended.filter((e) => e.tag === "script");
check("new index: the page stays", w.reloads === 0);
check("new index: the manifest's script is loaded again",
	added.length === 1 && added[0].attrs.src === undefined && added[0].src === "../search/manifest.js?7");
w = load("4", "/policies/backup.html", true);
w.es.fire("reload", { data: '{"gen":7,"paths":["index.html"]}' });
check("index unchanged: no script loaded", w.appended.filter((e) => e.tag === "script").length === 0);
process.exit(failed ? 1 : 0);

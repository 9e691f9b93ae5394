// First results from the heads of split terms (format 3):
//   node heads.test.mjs SITE      (SITE: search_fixture -H with a low head size)
// For every query and k, HB.search(q, {top: k}) must give exactly the first
// k hits of the whole search (same documents, order and scores; all of them
// when it says there are no more), with the same sections and excerpts.
// Also checks that many such queries load no r/ file at all, so the heads
// do the work and the test does not pass by always loading the tails.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSite } from './shim.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const js = join(here, '..', '..', 'themes/default/assets/search.js');
const site = process.argv[2];
if (!site) { console.log('usage: node heads.test.mjs SITE\n0 passed, 1 failed'); process.exit(1); }
let passed = 0, failed = 0;
function ok(cond, what) { if (cond) passed++; else { failed++; console.log('FAIL ' + what); } }

const rfiles = readdirSync(join(site, 'search')).includes('r') ? readdirSync(join(site, 'search/r')) : [];
ok(rfiles.length >= 2, `the fixture has tail files (${rfiles.length})`);

const corpus = JSON.parse(readFileSync(join(site, 'corpus.json'), 'utf8'));
const whole = loadSite(site, js).HB;
const queries = ['バックアップ', '確認する', '情報', '情', '鍵', 'edr', 'ＥＤＲ', '8.13', 'backup', 'backup restore',
	'情報 バックアップ', 'ba', 're', 'バックアップ 確認', '多要素認証', 'ランサムウェア', '標的型メール', 'クリアデスク',
	'存在しない語句', 'zzqx'];
let seed = 7;
const rnd = n => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
// single terms (one list: the bound and tie rule of one term), then
// random substrings of 2-6 characters (phrases, several units)
const words = new Set();
for (const d of corpus) for (const s of d.sections) for (const w of whole.normalize(s.text).match(/[a-z][a-z0-9-]{2,}/g) || []) words.add(w);
queries.push(...[...words].sort().filter((w, i) => i % 3 === 0).slice(0, 30).map(w => w + ' '));
for (const d of corpus) for (const t of (d.tags || []).concat(d.controls || [])) if (queries.length < 70 && !queries.includes(t)) queries.push(t);
for (let i = 0; queries.length < 100 && i < 2000; i++) {
	const d = corpus[rnd(corpus.length)];
	const t = [...whole.normalize(d.sections.map(s => s.text).join(''))], at = rnd(Math.max(1, t.length - 2));
	const sub = t.slice(at, at + 2).join('');
	const us = whole.units(sub);
	if (us.length === 1 && us[0].cjk && us[0].cp.length === 2) queries.push(sub);
}
for (let i = 0; queries.length < 180 && i < 4000; i++) {
	const d = corpus[rnd(corpus.length)];
	const texts = d.sections.map(s => s.text).concat([d.title]);
	const t = [...whole.normalize(texts[rnd(texts.length)])];
	const len = 2 + rnd(5), at = rnd(Math.max(1, t.length - len));
	const sub = t.slice(at, at + len).join('');
	if (whole.units(sub).length) queries.push(sub);
}

const key = r => [r.url, r.anchor, JSON.stringify(r.excerpt)].join(' ');
let settled = 0, tried = 0, complete = 0;
for (const q of queries) {
	const all = await whole.search(q);
	for (const k of [1, 8, 20]) {
		const { HB, stats } = loadSite(site, js);
		await HB.search('');
		const before = stats.loaded.length;
		const top = await HB.search(q, { top: k });
		const loaded = stats.loaded.slice(before);
		const want = top.more ? all.hits.slice(0, k) : all.hits;
		const same = top.hits.length === want.length &&
			top.hits.every((h, i) => h.id === want[i].id && h.score === want[i].score);
		ok(same, `'${q}' top ${k}: ${top.hits.map(h => h.id).join(',')} = ${want.map(h => h.id).join(',')}` +
			(top.more ? ' (first k)' : ' (all)'));
		if (top.more) ok(top.hits.length === k, `'${q}' top ${k}: k hits when there are more`);
		if (!same) continue;
		const a = await HB.results(top, 0, k, 120), b = await whole.results(all, 0, k, 120);
		ok(a.length === b.length && a.every((r, i) => key(r) === key(b[i])),
			`'${q}' top ${k}: same sections and excerpts as the whole search`);
		if (all.hits.length >= k) {
			tried++;
			if (!loaded.some(f => f.startsWith('search/r/'))) settled++;
		}
		if (!top.more) complete++;
	}
}
console.log(`# ${settled} of ${tried} top-k queries were answered without any r/ file; ${complete} complete`);
ok(settled >= tried / 3, `heads answer at least a third of the top-k queries (${settled}/${tried})`);
ok(complete > 0, 'some top-k searches are complete without the tails');
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

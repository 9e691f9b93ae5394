// What a query loads (format 2), on two indexes of the same fixture:
//   node loading.test.mjs SITE SPLIT_SITE
// SITE keeps every term's positions in place; SPLIT_SITE was written with a
// low split (search_fixture -s), so the largest terms keep their positions
// in p/ files.  Checks that queries that need no positions load no p/ file,
// that a phrase loads at most one p/ file per cover bigram, and that both
// indexes give the same hits and scores (phrases: also the same sections
// and excerpts).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSite } from './shim.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const js = join(here, '..', '..', 'themes/default/assets/search.js');
const [site, split] = process.argv.slice(2);
if (!site || !split) { console.log('usage: node loading.test.mjs SITE SPLIT_SITE\n0 passed, 1 failed'); process.exit(1); }
let passed = 0, failed = 0;
function ok(cond, what) { if (cond) passed++; else { failed++; console.log('FAIL ' + what); } }

// terms of the split index that have their positions in p/ files
const sepTerms = new Set();
for (const f of readdirSync(join(split, 'search/p'))) {
	const m = readFileSync(join(split, 'search/p', f), 'utf8').match(/\(\["p","p\/\w+",(\[[^\]]*\])/);
	JSON.parse(m[1]).forEach(t => sepTerms.add(t));
}
ok(sepTerms.size >= 5, `split fixture has terms with positions apart (${sepTerms.size})`);
ok(readdirSync(join(site, 'search')).indexOf('p') < 0 || readdirSync(join(site, 'search/p')).length === 0,
	'default fixture keeps every position in place');

async function run(dir, q) {
	const { HB, stats } = loadSite(dir, js);
	await HB.search('');
	const before = stats.loaded.length;
	const res = await HB.search(q);
	const files = stats.loaded.slice(before);
	const rs = await HB.results(res, 0, res.hits.length, 120);
	return {
		files, p: files.filter(f => f.startsWith('search/p/')).length,
		t: files.filter(f => f.startsWith('search/t/')).length,
		hits: rs.map(r => [r.url, r.score.toFixed(6), r.anchor, JSON.stringify(r.excerpt)].join(' ')),
		units: HB.units(q),
	};
}

// cover bigrams of a CJK unit, as the runtime picks them
function cover(cp) {
	const offs = [];
	if (cp.length === 2) return [String.fromCodePoint(cp[0], cp[1])];
	for (let o = 0; o + 1 < cp.length; o += 2) offs.push(o);
	if (cp.length % 2) offs.push(cp.length - 2);
	return offs.map(o => String.fromCodePoint(cp[o], cp[o + 1]));
}

const sepList = [...sepTerms];
const noPos = ['edr', '8.13', 'backup', '情', '鍵', 'endp', ...sepList.slice(0, 8)];
for (const q of noPos) {
	const r = await run(split, q);
	ok(r.p === 0, `'${q}' needs no positions: loads no p/ file (${r.p})`);
}
// phrases over separated (hot) bigrams: one p/ file per cover bigram at most
const phrases = [];
for (const a of sepList) for (const b of sepList)
	if (a !== b && a.slice(-1) === b.slice(0, 1) && phrases.length < 12) phrases.push(a + b.slice(1));
phrases.push('確認する', '情報を', 'バックアップ', '復元');
let phraseHits = 0;
for (const q of phrases) {
	const r = await run(split, q), units = r.units.filter(u => u.cjk);
	const k = units.reduce((n, u) => n + (u.cp.length >= 3 ? cover(u.cp).filter(t => sepTerms.has(t)).length : 0), 0);
	ok(r.p <= k, `'${q}' loads ${r.p} p/ files, at most ${k}`);
	phraseHits += r.hits.length;
	const d = await run(site, q);
	ok(d.p === 0, `'${q}' on the default fixture loads no p/ file`);
	ok(d.hits.length === r.hits.length && d.hits.every((h, i) => h === r.hits[i]),
		`'${q}': same hits, scores, sections and excerpts with positions apart (${d.hits.length} vs ${r.hits.length})`);
}
ok(phraseHits > 0, `phrases over separated bigrams find documents (${phraseHits})`);
// without positions the section comes from the stored text, so only the
// documents and scores must agree
const docScore = h => h.split(' ').slice(0, 2).join(' ');
for (const q of noPos) {
	const a = await run(site, q), b = await run(split, q);
	ok(a.hits.length === b.hits.length && a.hits.every((h, i) => docScore(h) === docScore(b.hits[i])),
		`'${q}': same documents and scores in both indexes`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

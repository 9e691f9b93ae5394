// Queries against a written index under Node (script-tag shim).
//   node query.test.mjs SITE_DIR      (SITE_DIR from build/tools/search_fixture)
// Checks recall/precision of random 2-4 character Japanese substrings (exact
// set of documents containing them), width variants, control ids, phrase
// precision, sections, excerpts and escaping.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSite } from './shim.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const site = process.argv[2];
if (!site) { console.log('usage: node query.test.mjs SITE_DIR\n0 passed, 1 failed'); process.exit(1); }
const { HB, stats } = loadSite(site, join(here, '..', '..', 'themes/default/assets/search.js'));
const corpus = JSON.parse(readFileSync(join(site, 'corpus.json'), 'utf8'));
let passed = 0, failed = 0;
function ok(cond, what) { if (cond) passed++; else { failed++; console.log('FAIL ' + what); } }
async function urls(q) {
	const res = await HB.search(q);
	const rs = await HB.results(res, 0, res.hits.length, 120);
	return { res, rs, urls: rs.map(r => r.url) };
}
const norm = s => HB.normalize(s);
const fields = d => [d.title, ...d.tags, ...d.sections.map(s => s.heading), ...d.sections.map(s => s.text)].map(norm);
const truth = q => corpus.filter(d => fields(d).some(f => f.includes(norm(q)))).map(d => d.url).sort();
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// 1. random CJK substrings: exact recall and precision
let seed = 42;
const rnd = n => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const isCjk = c => HB.tokenize(String.fromCodePoint(c)).length === 1 && c > 0x3000;
let exact = 0, samples = 0, times = [];
for (let i = 0; i < (process.env.SEARCH_REAL_SITE ? 1500 : 300); i++) {
	const d = corpus[rnd(corpus.length)];
	const texts = d.sections.map(s => s.text).concat([d.title]);
	const t = [...norm(texts[rnd(texts.length)])];
	const len = 2 + rnd(3), at = rnd(Math.max(1, t.length - len));
	const sub = t.slice(at, at + len);
	if (sub.length !== len || !sub.every(ch => isCjk(ch.codePointAt(0)))) continue;
	const q = sub.join('');
	const t0 = performance.now();
	const got = (await urls(q)).urls.sort();
	times.push(performance.now() - t0);
	samples++;
	if (same(got, truth(q))) exact++;
	else console.log(`  mismatch for '${q}': got ${got.length}, want ${truth(q).length}`);
}
ok(samples >= 100, `enough random samples (${samples})`);
ok(exact === samples, `random substrings exact ${exact}/${samples}`);

// The built example handbook (SEARCH_REAL_SITE=1): only checks that hold
// for any site; the rest below are about the fixture's own documents.
if (process.env.SEARCH_REAL_SITE) {
	for (const [variant, canon] of [['ＥＤＲ', 'EDR'], ['ﾊﾞｯｸｱｯﾌﾟ', 'バックアップ'], ['ｅｄｒ', 'edr']]) {
		const a = (await urls(variant)).urls, b = (await urls(canon)).urls;
		ok(a.length > 0 && same(a, b), `'${variant}' = '${canon}' (${a.length} vs ${b.length})`);
	}
	for (const q of ['情報を', '鍵', '復元', 'ランサムウェア']) {
		const got = (await urls(q)).urls.sort();
		ok(got.length > 0 && same(got, truth(q)), `'${q}' exact (${got.length} vs ${truth(q).length})`);
	}
	const a = (await urls('情報を')).urls, b = (await urls('情報')).urls;
	ok(a.length < b.length, `情報を (${a.length}) is not every page with 情報 (${b.length})`);
	times.sort((x, y) => x - y);
	console.log(`# ${samples} random queries: median ${times[times.length >> 1].toFixed(2)} ms`);
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}

// 2. width variants give the canonical results
for (const [variant, canon] of [['ＥＤＲ', 'EDR'], ['ﾊﾞｯｸｱｯﾌﾟ', 'バックアップ'], ['ＵＳＢメモリ', 'USBメモリ'], ['ｅｄｒ', 'edr']]) {
	const a = (await urls(variant)).urls, b = (await urls(canon)).urls;
	ok(a.length > 0 && same(a, b), `'${variant}' = '${canon}' (${a.length} vs ${b.length})`);
}

// 3. control ids rank the document with that control first
for (const [q, ctl] of [['8.13', '8.13'], ['A.5.1', 'A.5.1'], ['8.7', '8.7']]) {
	const { rs } = await urls(q);
	ok(rs.length > 0 && rs[0].controls.includes(ctl), `'${q}' first result has control ${ctl} (${rs[0] && rs[0].url})`);
}
{
	const { rs } = await urls('8.13');
	ok(rs[0].url === 'procedures/backup.html', `8.13 -> backup first (${rs[0].url})`);
}

{
	const { rs } = await urls('8.1');
	ok(rs.length > 0 && rs.every(r => r.controls.includes('8.1')), `8.1 finds only control 8.1, not 8.13 (${rs.length})`);
	const { rs: a5 } = await urls('A.5');
	ok(a5.length > 0 && a5.every(r => r.controls.some(c => c.startsWith('A.5.'))), `A.5 finds A.5.x (${a5.length})`);
	const { rs: bk } = await urls('endp');
	ok(bk.length === 1 && bk[0].url === 'lessons/edr.html', 'prefix of the word being typed');
}

{
	const { urls: u } = await urls('バックアップ');
	ok(u[0] === 'procedures/backup.html' && u.includes('incidents/2024-ransomware.html'),
		`title match ranks above body-only matches (${u.slice(0, 3)})`);
}

// 4. phrase precision: 情報を is not every page containing 情報
{
	const a = (await urls('情報を')).urls.sort(), b = (await urls('情報')).urls;
	ok(same(a, truth('情報を')) && a.length < b.length, `情報を: ${a.length} exact of ${b.length} with 情報`);
}

// 5. single kanji, section anchors, excerpts
{
	const { rs } = await urls('鍵');
	ok(same(rs.map(r => r.url).sort(), truth('鍵')) && rs.length > 0, 'single kanji 鍵 exact');
	const r2 = (await urls('復元')).rs;
	ok(r2.length === 1 && r2[0].url === 'procedures/backup.html' && r2[0].anchor === 'restore' &&
		r2[0].href === 'procedures/backup.html#restore', `復元 -> backup#restore (${r2[0] && r2[0].href})`);
	const marked = r2[0].excerpt.filter(p => p[1]).map(p => p[0]);
	ok(marked.length && marked.every(m => m === '復元'), `excerpt marks 復元 (${JSON.stringify(r2[0].excerpt)})`);
	const r3 = (await urls('ＥＤＲ製品')).rs;
	const m3 = r3.length ? r3[0].excerpt.filter(p => p[1]).map(p => p[0]) : [];
	ok(m3.includes('ＥＤＲ') && m3.includes('製品'), `excerpt marks the original full-width text (${m3})`);
}

// 6. titles with </script> survive the round trip; English words; partial OR
{
	const { rs } = await urls('紛失');
	ok(rs.some(r => r.title === 'USBメモリ紛失 </script><script>alert(1)</script>'), 'title with </script> round trip');
	const e = (await urls('endpoint')).urls;
	ok(same(e, ['lessons/edr.html']), 'English word endpoint');
	const p = (await urls('iso')).urls;
	ok(p.includes('lessons/edr.html'), 'identifier part iso (prefix)');
	const { res } = await urls('バックアップ zzqqxx');
	ok(res.partial && res.hits.length > 0, 'no AND match falls back to OR, marked partial');
	const { res: r0 } = await urls('存在しない語句です');
	ok(r0.hits.length === 0, 'nonsense finds nothing');
}

// 7. facets
{
	const f = await HB.facets();
	ok(f.type.some(v => v[0] === 'incident' && v[2].length > 1), 'type facet lists incident docs');
	ok(f.control.some(v => v[0] === '8.13'), 'control facet has 8.13');
	// every value decodes (gap lists and bitmaps) to exactly the source docs
	const want = (k, v) => corpus.map((d, i) => (k === 'type' ? [d.type] : k === 'control' ? d.controls : d.tags).includes(v) ? i : -1).filter(i => i >= 0);
	let exactFacets = 0, all = 0;
	for (const k of ['type', 'control', 'tag'])
		for (const v of f[k]) { all++; if (same(v[2], want(k, v[0]))) exactFacets++; else console.log(`  facet ${k}=${v[0]} differs`); }
	ok(all > 10 && exactFacets === all, `facet doc lists exact ${exactFacets}/${all}`);
}
times.sort((a, b) => a - b);
console.log(`# ${samples} random queries: median ${times[times.length >> 1].toFixed(2)} ms, ` +
	`loaded ${stats.files} files / ${stats.bytes} bytes in total`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

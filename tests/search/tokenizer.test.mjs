// The shared tokenizer vectors (tests/search/vectors.txt) against the JS
// tokenizer in themes/default/assets/search.js.  node tokenizer.test.mjs
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const HB = createRequire(import.meta.url)(join(root, 'themes/default/assets/search.js'));

function unescape(s) {
	const bytes = [];
	for (let i = 0; i < s.length;) {
		if (s.startsWith('\\\\', i)) { bytes.push(92); i += 2; }
		else if (s.startsWith('\\x', i)) { bytes.push(parseInt(s.slice(i + 2, i + 4), 16)); i += 4; }
		else if (s.startsWith('\\u{', i)) {
			const end = s.indexOf('}', i);
			bytes.push(...Buffer.from(String.fromCodePoint(parseInt(s.slice(i + 3, end), 16))));
			i = end + 1;
		} else {
			const c = s.codePointAt(i);
			bytes.push(...Buffer.from(String.fromCodePoint(c)));
			i += c > 0xffff ? 2 : 1;
		}
	}
	return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
}

let passed = 0, failed = 0, input = null;
for (const line of readFileSync(join(here, 'vectors.txt'), 'utf8').split('\n')) {
	if (line.startsWith('< ')) { input = line.slice(2); continue; }
	if (!line.startsWith('>') || input === null) continue;
	const want = line.slice(2);
	const got = HB.tokenize(unescape(input)).map(([t, p]) => `${t}@${p}`).join(' ');
	if (got === want) passed++;
	else { failed++; console.log(`FAIL ${input}\n  got  ${got}\n  want ${want}`); }
	input = null;
}
// properties: normalization parity table, lone surrogates never throw
const props = [
	[HB.normalize('İ'), 'i'],
	[HB.normalize('ΣΑΣ'), 'σασ'],
	[HB.tokenize('\ud800abc').map(x => x[0]).join(' '), 'abc'],
	[HB.units('8.13の対策 ＥＤＲ').map(u => u.s).join('|'), '8.13|の対策|edr'],
];
for (const [got, want] of props) {
	if (got === want) passed++; else { failed++; console.log(`FAIL property: got ${got} want ${want}`); }
}
if (passed < 20) { failed++; console.log('FAIL too few vectors'); }

// Parity on random strings: the C tokenizer (build/tests/test_tokenize
// --print) and the JS one must agree on every one.
const bin = join(process.env.TEBIKI_BUILD || join(root, 'build'), 'tests', 'test_tokenize');
if (existsSync(bin)) {
	const pools = [
		'情報管理人々〆切々の対策を守るバックアップメモリーセキュリティ',
		'ﾊﾞｯｸｱｯﾌﾟｶﾀｶﾅﾟﾞｰ･',
		'ＥＤＲＵＳＢ０１２ａｂｃ．－／',
		'abcXYZ0189.-_/ :;,!?()[]',
		'İıΣσςßÅéñ\u0301\u0308\u3099\u309a①②㍿㌔',
		'😀🔐\u200b\ufeff\u00a0\u3000、。・「」',
		'한국어中文字符\u{20b9f}\u{2a6b2}',
	].map(p => [...p]);
	let seed = 7;
	const rnd = n => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
	const inputs = [];
	for (let i = 0; i < 600; i++) {
		let t = '';
		const len = 1 + rnd(30);
		for (let k = 0; k < len; k++) { const pool = pools[rnd(pools.length)]; t += pool[rnd(pool.length)]; }
		inputs.push(t);
	}
	const esc = t => [...t].map(ch => {
		const c = ch.codePointAt(0);
		return ch === '\\' ? '\\\\' : c < 0x20 || c > 0x7e ? `\\u{${c.toString(16)}}` : ch;
	}).join('');
	const out = spawnSync(bin, ['--print'], { input: inputs.map(esc).join('\n') + '\n', encoding: 'utf8' });
	const got = out.stdout.split('\n').filter(l => l.startsWith('>')).map(l => l.slice(2));
	let same = 0;
	inputs.forEach((t, i) => {
		const js = HB.tokenize(t).map(([x, p]) => `${x}@${p}`).join(' ');
		if (js === got[i]) same++;
		else if (same + 5 > i) console.log(`  differs: ${esc(t)}\n    C  ${got[i]}\n    JS ${js}`);
	});
	if (same === inputs.length) passed++;
	else { failed++; console.log(`FAIL random parity: ${same}/${inputs.length} agree`); }
} else {
	console.log(`# ${bin} not built: random C/JS parity not checked`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

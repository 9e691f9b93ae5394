/*
 * tebiki search runtime: a classic script with no dependencies.
 * Tokenizes exactly as generator/tokenize.c (vectors: tests/search/vectors.txt),
 * loads search/manifest.js and shards with <script> tags (works on file://),
 * ranks with BM25 over fields, checks CJK phrase adjacency with positions,
 * and binds to [data-search-input] boxes.  Format: docs/search.md.
 */
(function () {
	'use strict';
	var W = typeof window !== 'undefined' ? window : globalThis;
	var HB = W.HB = W.HB || {};
	var MAX_CP = 40, F_TITLE = 0, F_CONTROL = 1, F_HEADING = 2, F_BODY = 4;
	var HAS_POS = [true, false, true, true, true], F_TAG = 3;

	/* ------------------------------------------------------- tokenizer */
	var reStart = /[\p{L}\p{N}]/u, reMark = /\p{M}/u;
	function isCjk(c) {
		return (c >= 0x3041 && c <= 0x309f) || (c >= 0x30a1 && c <= 0x30fa) ||
			(c >= 0x30fc && c <= 0x30ff) || (c >= 0x31f0 && c <= 0x31ff) ||
			(c >= 0x3005 && c <= 0x3007) || c === 0x303b ||
			(c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
			(c >= 0xf900 && c <= 0xfaff) || (c >= 0x20000 && c <= 0x3134f);
	}
	function isStart(c) {
		if (c < 0x80)
			return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
		return !isCjk(c) && reStart.test(String.fromCodePoint(c));
	}
	function isCont(c) {
		return isStart(c) || (c >= 0x80 && !isCjk(c) && reMark.test(String.fromCodePoint(c)));
	}
	/* NFKC + lowercase with the parity table (U+0130 -> i, U+03A3 -> σ). */
	function normalize(s) {
		s = String(s).replace(/[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/g,
			function (m, p) { return typeof p === 'string' ? p + '\ufffd' : '\ufffd'; });
		return s.normalize('NFKC').replace(/[\u0130\u03a3]/g, function (m) {
			return m === '\u0130' ? 'i' : '\u03c3';
		}).toLowerCase();
	}
	function cps(s) {
		var out = [];
		for (var i = 0; i < s.length;) {
			var c = s.codePointAt(i);
			out.push(c);
			i += c > 0xffff ? 2 : 1;
		}
		return out;
	}
	function str(cp, a, b) { return String.fromCodePoint.apply(null, cp.slice(a, b)); }
	function isDigits(cp, a, b) {
		if (a >= b) return false;
		for (var i = a; i < b; i++) if (cp[i] < 48 || cp[i] > 57) return false;
		return true;
	}
	/* Walks normalized text; calls cjk(cp, a, b) and ident(cp, a, b, parts). */
	function scan(s, cjk, ident) {
		var cp = cps(normalize(s)), n = cp.length, i = 0, j, k, parts;
		while (i < n) {
			if (isCjk(cp[i])) {
				for (j = i; j < n && isCjk(cp[j]); j++);
				cjk(cp, i, j);
				i = j;
				continue;
			}
			if (!isStart(cp[i])) { i++; continue; }
			parts = [];
			j = i;
			for (;;) {
				k = j;
				while (j < n && isCont(cp[j])) j++;
				parts.push([k, j]);
				if (parts.length === 64 || j + 1 >= n ||
					!(cp[j] === 46 || cp[j] === 45 || cp[j] === 95 || cp[j] === 47) ||
					!isStart(cp[j + 1]))
					break;
				j++;
			}
			ident(cp, i, j, parts);
			i = j;
		}
	}
	function isControl(cp, a, parts) {
		if (parts.length < 2) return false;
		for (var k = 0; k < parts.length; k++) {
			var p = parts[k];
			if (k > 0 && cp[p[0] - 1] !== 46) return false;
			if (!isDigits(cp, p[0], p[1]) &&
				!(k === 0 && p[1] - p[0] === 1 && cp[a] >= 97 && cp[a] <= 122))
				return false;
		}
		return true;
	}
	/* Tokens [term, position] exactly as tok_text() emits them. */
	function tokenize(s) {
		var out = [], pos = 0;
		function emit(t, n, p, cap) {
			if (cap && n > MAX_CP) return;
			for (var i = out.length - 1; i >= 0 && out[i][1] === p; i--)
				if (out[i][0] === t) return;
			out.push([t, p]);
		}
		scan(s, function (cp, a, b) {
			for (var i = a; i + 1 < b; i++) emit(str(cp, i, i + 2), 2, pos + i - a, false);
			emit(str(cp, b - 1, b), 1, pos + b - 1 - a, false);
			pos += b - a + 1;
		}, function (cp, a, b, parts) {
			var k;
			emit(str(cp, a, b), b - a, pos, true);
			if (isControl(cp, a, parts)) {
				for (k = parts.length - 1; k >= 2; k--)
					emit(str(cp, a, parts[k - 1][1]), parts[k - 1][1] - a, pos, true);
			} else if (parts.length > 1) {
				for (k = 0; k < parts.length; k++)
					emit(str(cp, parts[k][0], parts[k][1]), parts[k][1] - parts[k][0], pos, true);
			}
			pos += 2;
		});
		return out;
	}
	/* Query units: {cjk: true, s, n} for CJK runs, {s} for identifiers. */
	function units(q) {
		var out = [];
		scan(q, function (cp, a, b) {
			out.push({ cjk: true, s: str(cp, a, b), cp: cp.slice(a, b) });
		}, function (cp, a, b) {
			if (b - a <= MAX_CP) out.push({ cjk: false, s: str(cp, a, b) });
		});
		return out;
	}

	/* --------------------------------------------------------- loading */
	var root = '', manifest = null, store = {}, waiting = {}, cache = {};
	var TIMEOUT = 15000;
	HB.load = function (a) {
		var id = a[1];
		if (a[0] === 'm') {
			/* a new manifest (tebiki serve loads it again after a
			 * build): what was derived from the old one goes */
			manifest = a[2];
			lengths = null;
			titleAvg = 0;
			facetData = null;
		}
		else if (a[0] === 't' || a[0] === 'p' || a[0] === 'r') {
			var map = new Map(), keys = a[2], data = a[3];
			for (var i = 0; i < keys.length; i++) map.set(keys[i], data[i]);
			store[id] = map;
		} else store[id] = a[2];
		if (waiting[id]) { waiting[id].ok(); delete waiting[id]; }
	};
	if (HB.q) { HB.q.forEach(HB.load); HB.q = null; }
	function load(name) {
		if (name === 'manifest' && manifest) return Promise.resolve();
		if (name !== 'manifest' && store[name]) return Promise.resolve();
		if (cache[name]) return cache[name];
		var p = new Promise(function (ok, fail) {
			var el = document.createElement('script'), done = false;
			var timer = setTimeout(function () { finish(new Error('timeout loading ' + name)); }, TIMEOUT);
			function finish(err) {
				if (done) return;
				done = true;
				clearTimeout(timer);
				delete waiting[name];
				if (err) { delete cache[name]; fail(err); } else ok();
			}
			waiting[name] = { ok: function () { finish(null); } };
			el.onerror = function () { finish(new Error('cannot load ' + name)); };
			el.onload = function () {
				/* HB.load ran during execution; if not, the file is stale */
				setTimeout(function () { finish(new Error('stale or broken ' + name)); }, 0);
			};
			el.async = true;
			el.charset = 'utf-8';
			el.src = root + 'search/' + name + '.js';
			(document.head || document.documentElement).appendChild(el);
		});
		cache[name] = p;
		return p;
	}
	function ready() {
		return load('manifest').then(function () { return manifest; });
	}

	/* ------------------------------------------------------- postings */
	function cmp(a, b) {	/* code-point order, like the C side's bytes */
		var i = 0, j = 0;
		while (i < a.length && j < b.length) {
			var x = a.codePointAt(i), y = b.codePointAt(j);
			if (x !== y) return x < y ? -1 : 1;
			i += x > 0xffff ? 2 : 1;
			j += y > 0xffff ? 2 : 1;
		}
		return i < a.length ? 1 : j < b.length ? -1 : 0;
	}
	function shardIndex(t, v) {	/* last shard whose first term <= t */
		v = v || manifest.t;
		var lo = 0, hi = v.length - 1, r = -1;
		while (lo <= hi) {
			var mid = (lo + hi) >> 1;
			if (cmp(v[mid][0], t) <= 0) { r = mid; lo = mid + 1; } else hi = mid - 1;
		}
		return r;
	}
	function b64(s) {
		var tab = b64.tab, out = new Uint8Array((s.length >> 2) * 3), n = 0, i;
		if (!tab) {
			tab = b64.tab = {};
			var al = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
			for (i = 0; i < 64; i++) tab[al[i]] = i;
		}
		for (i = 0; i < s.length; i += 4) {
			var v = tab[s[i]] << 18 | tab[s[i + 1]] << 12 | (tab[s[i + 2]] || 0) << 6 | (tab[s[i + 3]] || 0);
			out[n++] = v >> 16 & 255;
			if (s[i + 2] !== '=') out[n++] = v >> 8 & 255;
			if (s[i + 3] !== '=') out[n++] = v & 255;
		}
		return out.subarray(0, n);
	}
	/* Byte strings (postings, positions, lengths): one character per byte;
	 * bytes below 90 are printable ASCII without " & < > \ (in order), the
	 * others U+0100 + byte. */
	var btab = new Uint8Array(128);
	(function () {
		for (var c = 32, v = 0; c < 127; c++)
			if ('"&<>\\'.indexOf(String.fromCharCode(c)) < 0) btab[c] = v++;
	})();
	function bytes(s) {
		var out = new Uint8Array(s.length);
		for (var i = 0; i < s.length; i++) {
			var c = s.charCodeAt(i);
			out[i] = c >= 256 ? c - 256 : btab[c];
		}
		return out;
	}
	var decoded = new Map();
	function varint(u, at) {	/* [value, next offset] */
		var x = 0, sh = 0, c;
		do { c = u[at++]; x += (c & 127) * Math.pow(2, sh); sh += 7; } while (c & 128);
		return [x, at];
	}
	/* Posting list: [{id, tf:[5], u, po:[5 offsets or -1]}]; positions are
	 * in place (u, po set here) or, for the largest lists, in a p/ file
	 * (u, po set by attach() once loaded); positions(e, f) decodes them
	 * on demand.  A split term's blob is [head, bound, df]: the list holds
	 * the docs of highest impact, its tail (r/ file, full()) the others,
	 * none of which has an impact above bound.  list.df is the whole df. */
	function decode(blob, key, ck) {	/* key: the term; ck: cache key */
		ck = ck || key;
		var hit = decoded.get(ck);
		if (hit) return hit;
		var extra = null;
		if (typeof blob !== 'string') { extra = blob; blob = blob[0]; }
		var u = bytes(blob), i = 0, r;
		function v() {
			var c = u[i];
			if (c < 128) { i++; return c; }
			r = varint(u, i); i = r[1]; return r[0];
		}
		/* df * 2 + sep: sep = positions in the term's p/ file */
		var x = v(), df = Math.floor(x / 2), sep = x % 2, list = new Array(df), id = 0;
		/* only CJK bigrams have positions (the phrase check needs no others) */
		var kc = cps(key), hasPos = kc.length === 2 && isCjk(kc[0]) && isCjk(kc[1]);
		for (var d = 0; d < df; d++) {
			id += v();
			var h = v(), mask, one = 0, tf = [0, 0, 0, 0, 0], po = sep ? null : [-1, -1, -1, -1, -1];
			if (h < 80) { mask = 1 << (h % 5); one = Math.floor(h / 5) + 1; } else mask = h - 80;
			for (var f = 0; f < 5; f++) {
				if (!(mask & (1 << f))) continue;
				tf[f] = one || v();
				if (!sep && hasPos && HAS_POS[f]) {
					po[f] = i;
					for (var k = 0; k < tf[f]; k++) while (u[i++] & 128);
				}
			}
			list[d] = { id: id, tf: tf, u: sep || !hasPos ? null : u, po: hasPos ? po : null, pc: null };
		}
		list.pos = !sep;
		list.term = key;
		list.df = extra ? extra[2] : df;
		list.bound = extra ? extra[1] : 0;
		list.tail = !!extra;
		list.tid = extra ? extra[3] : 0;
		decoded.set(ck, list);
		return list;
	}
	/* The whole list of a split term: head and tail merged in doc order. */
	function full(l) {
		if (!l.tail) return Promise.resolve(l);
		if (l.whole) { l.whole.exact = l.exact; return Promise.resolve(l.whole); }
		var name = 'r/' + manifest.r[Math.max(shardIndex(l.term, manifest.r), 0)][1];
		return load(name).then(function () {
			if (l.whole) { l.whole.exact = l.exact; return l.whole; }
			var blob = store[name].get(l.term);
			if (blob === undefined) throw new Error('stale or broken ' + name);
			var tl = decode(blob, l.term, '\u0000r' + l.term), m = [], a = 0, b = 0;
			while (a < l.length || b < tl.length) {
				if (b >= tl.length || (a < l.length && l[a].id < tl[b].id)) m.push(l[a++]);
				else m.push(tl[b++]);
			}
			m.df = l.df;
			m.term = l.term;
			m.exact = l.exact;
			m.parts = [l, tl];
			m.pos = l.pos && tl.pos;
			m.bound = 0;
			m.tail = false;
			return (l.whole = m);
		});
	}
	function wholeLists(ls, top) { return top ? Promise.resolve(ls) : Promise.all(ls.map(full)); }
	function entry(l, id) {
		if (!l.ids) {
			l.ids = new Map();
			l.forEach(function (e) { l.ids.set(e.id, e); });
		}
		return l.ids.get(id);
	}
	function has(l, id) { return !!entry(l, id); }
	/* Attaches a term's position blob (positions of every doc of the list,
	 * in list order, fields in order) to the list's entries. */
	function attach(list, blob) {
		if (list.pos) return;
		var u = bytes(blob), i = 0;
		for (var d = 0; d < list.length; d++) {
			var e = list[d], po = [-1, -1, -1, -1, -1];
			for (var f = 0; f < 5; f++) {
				if (!e.tf[f] || !HAS_POS[f]) continue;
				po[f] = i;
				for (var k = 0; k < e.tf[f]; k++) while (u[i++] & 128);
			}
			e.u = u;
			e.po = po;
		}
		list.pos = true;
	}
	var NOPOS = [];
	function positions(e, f) {
		if (!e.po || e.po[f] < 0) return NOPOS;
		if (!e.pc) e.pc = [null, null, null, null, null];
		if (e.pc[f]) return e.pc[f];
		var out = new Array(e.tf[f]), at = 0, i = e.po[f], r;
		for (var k = 0; k < e.tf[f]; k++) {
			r = varint(e.u, i); i = r[1]; at += r[0]; out[k] = at;
		}
		return (e.pc[f] = out);
	}
	function shardNames(a, b) { /* shards for the term range [a, b] */
		var i = Math.max(shardIndex(a), 0), j = Math.max(shardIndex(b), 0), out = [];
		for (var k = i; k <= j && k < manifest.t.length; k++) out.push('t/' + manifest.t[k][1]);
		return out;
	}
	/* Posting list of one exact term (null when absent). */
	function term(t) {
		var i = shardIndex(t);
		if (i < 0) return Promise.resolve(null);
		var name = 't/' + manifest.t[i][1];
		return load(name).then(function () {
			var blob = store[name].get(t);
			if (!blob) return null;
			return decode(blob, t);
		});
	}
	/* Loads the positions of posting list l (from term(t)). */
	function withPositions(l) {
		if (l.pos) return Promise.resolve(l);
		if (l.parts) return Promise.all(l.parts.map(withPositions)).then(function () { l.pos = true; return l; });
		var v = manifest.p, r = shardIndex(l.term, v);
		if (r < 0) { attach(l, ''); return Promise.resolve(l); }
		var name = 'p/' + v[r][1];
		return load(name).then(function () {
			attach(l, store[name].get(l.term) || '');
			return l;
		});
	}
	/* Posting lists of every term starting with p (at most maxShards files). */
	function prefix(p, cjkOnly, maxShards) {
		var names = shardNames(p, p + '\u{10ffff}').slice(0, maxShards);
		return Promise.all(names.map(load)).then(function () {
			var out = [];
			names.forEach(function (name) {
				store[name].forEach(function (blob, key) {
					if (key.length >= p.length && key.slice(0, p.length) === p &&
						(!cjkOnly || isCjk(key.codePointAt(0)))) {
						var l = decode(blob, key);
						l.exact = key === p;
						out.push(l);
					}
				});
			});
			return out;
		});
	}

	/* ---------------------------------------------------- evaluation */
	/* A unit's matches: {m: Map id -> match, df}; a match has tf:[5]
	 * and either src (posting entries) or ph (phrase start positions). */
	function union(lists, partial) {
		/* partial: lists other than the exact term (a Latin prefix) score half */
		var m = new Map();
		lists.forEach(function (list) {
			var w = partial && !list.exact ? 0.5 : 1;
			list.forEach(function (e) {
				var r = m.get(e.id);
				if (!r) { r = { tf: [0, 0, 0, 0, 0], src: [], w: w }; m.set(e.id, r); }
				for (var f = 0; f < 5; f++) r.tf[f] += e.tf[f];
				if (w > r.w) r.w = w;
				r.src.push(e);
			});
		});
		/* df: the largest list's (the same whether tails are loaded or not) */
		return { m: m, df: lists.reduce(function (a, l) { return Math.max(a, l.df); }, 1), lists: lists,
			partial: !!partial };
	}
	function matchPos(r, f) {
		if (r.ph) return r.ph[f] || NOPOS;
		var out = [];
		r.src.forEach(function (e) { out = out.concat(positions(e, f)); });
		return out;
	}
	function phrase(lists, offs) {
		/* lists[k] holds cover bigram k, expected at offset offs[k] */
		var order = lists.map(function (l, k) { return k; })
			.sort(function (a, b) { return lists[a].length - lists[b].length; });
		var maps = lists.map(function (l, k) {
			if (k === order[0]) return null;
			var x = new Map();
			l.forEach(function (e) { x.set(e.id, e); });
			return x;
		});
		var m = new Map();
		lists[order[0]].forEach(function (e0) {
			var es = [];
			for (var k = 0; k < lists.length; k++) {
				var e = k === order[0] ? e0 : maps[k].get(e0.id);
				if (!e) return;
				es.push(e);
			}
			var r = { tf: [0, 0, 0, 0, 0], ph: [null, null, null, null, null] }, any = false;
			[F_TITLE, F_HEADING, F_TAG, F_BODY].forEach(function (f) {
				if (es.some(function (e) { return !e.tf[f]; })) return;
				var cand = positions(es[0], f);
				for (var k = 1; k < es.length && cand.length; k++) {
					var other = positions(es[k], f), o = offs[k] - offs[0], next = [], j = 0;
					for (var i = 0; i < cand.length; i++) {
						while (j < other.length && other[j] < cand[i] + o) j++;
						if (j < other.length && other[j] === cand[i] + o) next.push(cand[i]);
					}
					cand = next;
				}
				if (cand.length) { r.tf[f] = cand.length; r.ph[f] = cand; any = true; }
			});
			if (any) m.set(e0.id, r);
		});
		/* df: the smallest cover bigram's */
		return { m: m, df: Math.max(1, Math.min.apply(null, lists.map(function (l) { return l.df; }))),
			lists: lists, phrase: true };
	}
	/* top: heads only (see search()) */
	function evalUnit(u, last, top) {
		function wl(ls) { return wholeLists(ls, top); }
		if (u.cjk) {
			var n = u.cp.length;
			if (n === 1) return prefix(u.s, true, 6).then(wl).then(function (ls) { return union(ls); });
			var offs = [];
			for (var o = 0; o + 1 < n; o += 2) offs.push(o);
			if (n % 2) offs.push(n - 2);
			return Promise.all(offs.map(function (o) {
				return term(String.fromCodePoint(u.cp[o], u.cp[o + 1]));
			})).then(function (lists) {
				if (lists.some(function (l) { return !l; })) return { m: new Map(), df: 1, lists: [] };
				return wl(lists).then(function (lists) {
					/* one bigram: the doc-level list is exact, no positions */
					if (lists.length === 1) return union(lists);
					return Promise.all(lists.map(withPositions)).then(function () {
						return phrase(lists, offs);
					});
				});
			});
		}
		/* the word being typed matches as a prefix, but not control-id-like
		 * ones: 8.1 must not find 8.13 (hierarchy comes from the index) */
		if (last && u.s.length >= 2 && !/^([a-z]|\d+)(\.\d+)+$/.test(u.s))
			return prefix(u.s, false, 3).then(wl).then(function (ls) { return union(ls, true); });
		return term(u.s).then(function (l) { return wl(l ? [l] : []); }).then(function (ls) { return union(ls); });
	}
	var lengths = null;	/* quantized body length per doc, then title lengths */
	/* 2^(q/8) - 1 without Math.pow, whose rounding may differ from the C
	 * side's: these literals times an exact power of two (len_of() in
	 * generator/search.c), so impacts are the same doubles on both sides */
	var FR = [1.0, 1.0905077326652577, 1.189207115002721, 1.2968395546510096,
		1.4142135623730951, 1.5422108254079407, 1.681792830507429, 1.8340080864093424], P2 = [1];
	for (var p2 = 1; p2 < 32; p2++) P2[p2] = P2[p2 - 1] * 2;
	function lenOf(q) { return FR[q & 7] * P2[q >> 3] - 1; }
	var titleAvg = 0;
	function idfOf(df) {
		var N = manifest.n;
		return Math.log(1 + (N - df + 0.5) / (df + 0.5));
	}
	function score(r, df, id) {
		return idfOf(df) * impact(r.tf, id) * (r.w || 1);
	}
	/* A posting's weight without idf; generator/search.c (impact()) does
	 * the same sums to bound the tails of split terms. */
	function impact(tfs, id) {
		var N = manifest.n, k1 = manifest.k1, b = manifest.b, fw = manifest.fw, s = 0;
		var len = lenOf(lengths[id]);
		if (!titleAvg) {
			for (var i = 0; i < N; i++) titleAvg += lengths[N + i] || 0;
			titleAvg = titleAvg / N || 1;
		}
		for (var f = 0; f < 5; f++) {
			var tf = tfs[f];
			if (!tf) continue;
			/* short titles that are mostly the query rank first */
			var norm = f === F_BODY ? 1 - b + b * len / (manifest.avg || 1) :
				f === F_TITLE ? 1 - b + b * (lengths[N + id] || titleAvg) / titleAvg : 1;
			s += fw[f] * tf * (k1 + 1) / (tf + k1 * norm);
		}
		return s;
	}
	/* What the loaded heads say of doc id for unit result r: -1 when they
	 * settle it (it matches iff r.m has it, with its exact score), or else
	 * an upper bound of its score.  id -1: a doc in none of the heads. */
	function unitBound(r, id, idf) {
		var ls = r.lists, k, any = false, b;
		if (r.phrase) {
			/* a phrase's tf is at most each cover bigram's, field by field */
			for (b = Infinity, k = 0; k < ls.length; k++) {
				if (has(ls[k], id)) {
					b = Math.min(b, impact(entry(ls[k], id).tf, id));
					continue;
				}
				if (!ls[k].tail) return -1;	/* not in a whole list: no match */
				any = true;
				b = Math.min(b, ls[k].bound);
			}
			return any ? idf * b : -1;
		}
		/* a union's impact is at most the sum of its lists' (concave tf) */
		for (b = 0, k = 0; k < ls.length; k++)
			if (ls[k].tail && !has(ls[k], id)) { any = true; b += ls[k].bound; }
		if (!any) return -1;
		var e = r.m.get(id);
		return idf * (b + (e ? impact(e.tf, id) : 0));
	}
	/* The first k hits from the heads alone ({hits, more}), or null when
	 * the tails could still change them. */
	function topHits(rs, k) {
		var idfs = rs.map(function (r) { return idfOf(r.df); }), cand = new Set(), out = [], ubs = [];
		rs.forEach(function (r) { r.lists.forEach(function (l) { l.forEach(function (e) { cand.add(e.id); }); }); });
		cand.forEach(function (id) {
			var sc = 0, ub = 0, settled = true, ms = [];
			for (var u = 0; u < rs.length; u++) {
				var b = unitBound(rs[u], id, idfs[u]);
				if (b < 0) {
					var e = rs[u].m.get(id);
					if (!e) return;
					var x = score(e, rs[u].df, id);
					sc += x;
					ub += x;
					ms.push(e);
				} else {
					settled = false;
					ub += b;
				}
			}
			if (settled) out.push({ id: id, score: sc, n: rs.length, m: ms });
			else ubs.push(ub);
		});
		var unseen = 0;
		for (var u = 0; u < rs.length && unseen >= 0; u++) {
			var b = unitBound(rs[u], -1, idfs[u]);
			unseen = b < 0 ? -1 : unseen + b;
		}
		out.sort(function (a, b) { return b.score - a.score || a.id - b.id; });
		/* fewer than k: complete only if nothing else can match */
		var kth = out.length >= k ? out[k - 1].score : -Infinity;
		/* One term: every doc outside the head scores at most what the
		 * bound scores (the same doubles as C's), and on a tie the doc
		 * ids decide: tail docs tied with the bound are all above tid. */
		var r0 = rs[0], l0 = r0.lists[0];
		if (rs.length === 1 && r0.lists.length === 1 && !r0.phrase && l0.tail && out.length >= k) {
			var ub0 = idfs[0] * l0.bound * (r0.partial && !l0.exact ? 0.5 : 1);
			if (ub0 < kth || ub0 === kth && l0.tid > out[k - 1].id) return { hits: out.slice(0, k), more: true };
			return null;
		}
		/* otherwise sums of bounds: a margin for their rounding */
		var M = 1 + 1e-12;
		if (unseen >= 0 && unseen * M >= kth || ubs.some(function (x) { return x * M >= kth; })) return null;
		/* nothing unsettled: these are all the hits */
		if (unseen < 0 && !ubs.length) return { hits: out, more: false };
		return { hits: out.slice(0, k), more: true };
	}
	/* search(query[, {top: k}]) -> {hits:[{id, score, m:[unit matches]}],
	 * partial, units, more}.  With top, the first k hits may come from the
	 * heads of split terms alone: then hits holds just those k (the same
	 * as the first k of a whole search) and more is true. */
	function search(q, opt) {
		var top = opt && opt.top > 0 ? opt.top : 0;
		return ready().then(function () {
			var us = units(q), trailing = /\s$/.test(q);
			if (!us.length) return { hits: [], partial: false, units: us };
			var lname = 'l/' + manifest.l;
			function run(top) {
				return Promise.all([load(lname).then(function () {
					if (!lengths) lengths = bytes(store[lname]);
				})].concat(us.map(function (u, i) {
					return evalUnit(u, i === us.length - 1 && !trailing && !u.cjk, top);
				})));
			}
			return run(top).then(function (rs) {
				rs.shift();
				var split = top && rs.some(function (r) { return r.lists.some(function (l) { return l.tail; }); });
				if (!split) return rs;
				var t = topHits(rs, top);
				/* no page has every unit: the whole search falls back to OR */
				if (t && (t.hits.length || rs.length === 1))
					return { hits: t.hits, partial: false, units: us, more: t.more };
				return run(0).then(function (rs) { rs.shift(); return rs; });
			}).then(function (rs) {
				if (!Array.isArray(rs)) return rs;
				function collect(and) {
					var ids = new Map();
					rs.forEach(function (r, k) {
						r.m.forEach(function (e, id) {
							var h = ids.get(id);
							if (!h) { h = { id: id, score: 0, n: 0, m: [] }; ids.set(id, h); }
							h.score += score(e, r.df, id);
							h.n++;
							h.m.push(e);
						});
					});
					var out = [];
					ids.forEach(function (h) { if (!and || h.n === rs.length) out.push(h); });
					out.sort(function (a, b) { return b.n - a.n || b.score - a.score || a.id - b.id; });
					return out;
				}
				var hits = collect(true), partial = false;
				if (!hits.length && rs.length > 1) { hits = collect(false); partial = hits.length > 0; }
				return { hits: hits, partial: partial, units: us };
			});
		});
	}
	function docs(ids) {
		var names = {};
		ids.forEach(function (id) { names['d/' + manifest.d[Math.floor(id / manifest.ds)]] = 1; });
		return Promise.all(Object.keys(names).map(load)).then(function () {
			return ids.map(function (id) {
				return store['d/' + manifest.d[Math.floor(id / manifest.ds)]][id % manifest.ds];
			});
		});
	}
	var facetData = null;
	/* {type|control|tag|year: [[value, label, [ids], Set]]}, decoded from
	 * gap lists or base64 bitmaps. */
	function facets() {
		var name = 'f/' + manifest.f;
		return load(name).then(function () {
			if (facetData) return facetData;
			facetData = {};
			Object.keys(store[name]).forEach(function (k) {
				facetData[k] = store[name][k].map(function (v) {
					var ids = [], at = 0, i;
					if (typeof v[2] === 'string') {
						var bits = b64(v[2]);
						for (i = 0; i < manifest.n; i++) if (bits[i >> 3] & (1 << (i & 7))) ids.push(i);
					} else {
						for (i = 0; i < v[2].length; i++) { at += v[2][i]; ids.push(at); }
					}
					return [v[0], v[1], ids, new Set(ids)];
				});
			});
			return facetData;
		});
	}

	/* ------------------------------------------------ excerpts, links */
	function lastLE(v, p) { var r = 0; for (var i = 0; i < v.length; i++) if (v[i] <= p) r = i; return r; }
	/* Section index where the hit's matches concentrate (-1: page top). */
	function section(doc, hit) {
		var votes = {}, best = -1, bestN = 0, hs = doc.s.map(function (s) { return s[3]; }),
			bs = doc.s.map(function (s) { return s[4]; });
		if (!doc.s.length) return -1;
		hit.m.forEach(function (e) {
			matchPos(e, F_BODY).forEach(function (p) { var k = lastLE(bs, p); votes[k] = (votes[k] || 0) + 1; });
			matchPos(e, F_HEADING).forEach(function (p) { var k = lastLE(hs, p); votes[k] = (votes[k] || 0) + 2; });
		});
		Object.keys(votes).forEach(function (k) {
			if (votes[k] > bestN || (votes[k] === bestN && +k < best)) { best = +k; bestN = votes[k]; }
		});
		return best;
	}
	/* Without positions (two-character, Latin and prefix units load none):
	 * the section whose stored heading and text hold the most query units
	 * (heading hits count double); -1 when none does. */
	function textSection(doc, us) {
		var best = -1, bestN = 0;
		doc.s.forEach(function (s, k) {
			var h = normalize(s[1]), t = normalize(s[2]), n = 0;
			us.forEach(function (u) {
				if (!u.s) return;
				if (h.indexOf(u.s) >= 0) n += 2;
				if (t.indexOf(u.s) >= 0) n++;
			});
			if (n > bestN) { best = k; bestN = n; }
		});
		return best;
	}
	/* Normalized text with a map back to original UTF-16 offsets. */
	function normMap(text) {
		var norm = '', from = [], to = [], re = /[\s\S][\p{M}\uff9e\uff9f]*/gu, m;
		while ((m = re.exec(text))) {
			var n = normalize(m[0]);
			for (var i = 0; i < n.length; i++) { from.push(m.index); to.push(m.index + m[0].length); }
			norm += n;
		}
		return { norm: norm, from: from, to: to };
	}
	/* Excerpt pieces [[text, marked], ...] around the first match. */
	function excerpt(text, us, width) {
		var nm = normMap(text), ranges = [];
		us.forEach(function (u) {
			if (!u.s) return;
			for (var i = nm.norm.indexOf(u.s); i >= 0; i = nm.norm.indexOf(u.s, i + u.s.length))
				ranges.push([nm.from[i], nm.to[i + u.s.length - 1]]);
		});
		ranges.sort(function (a, b) { return a[0] - b[0]; });
		var start = 0, end;
		if (ranges.length) {
			start = Math.max(0, ranges[0][0] - Math.floor(width / 4));
			var cut = text.slice(start, ranges[0][0]).search(/[。．！？.!?]\s*[^。．！？.!?]*$/);
			if (cut >= 0 && start > 0) start += cut + 1;
		}
		end = Math.min(text.length, start + width);
		var out = [], at = start;
		if (start > 0) out.push(['…', false]);
		ranges.forEach(function (r) {
			if (r[0] < at || r[1] > end) return;
			if (r[0] > at) out.push([text.slice(at, r[0]), false]);
			out.push([text.slice(r[0], r[1]), true]);
			at = r[1];
		});
		if (end > at) out.push([text.slice(at, end), false]);
		if (end < text.length) out.push(['…', false]);
		return { pieces: out, found: ranges.length > 0 };
	}
	/* Full result records for hits[from..to). */
	function results(res, from, to, width) {
		var slice = res.hits.slice(from, to);
		return docs(slice.map(function (h) { return h.id; })).then(function (ds) {
			return slice.map(function (h, i) {
				var d = ds[i], k = section(d, h), ex = null, anchor = '';
				if (k < 0) k = textSection(d, res.units);
				if (k >= 0) {
					anchor = d.s[k][0];
					ex = excerpt(d.s[k][2], res.units, width);
				}
				for (var j = 0; (!ex || !ex.found) && j < d.s.length; j++) {
					var e2 = excerpt(d.s[j][2], res.units, width);
					if (e2.found || !ex) ex = e2;
				}
				return {
					id: h.id, score: h.score, url: d.u, anchor: anchor,
					href: root + d.u + (anchor ? '#' + anchor : ''),
					title: d.t, type: d.y, typeLabel: d.yl, date: d.d,
					controls: d.c, tags: d.g, heading: k >= 0 ? d.s[k][1] : '',
					excerpt: ex ? ex.pieces : []
				};
			});
		});
	}

	/* Manifest and lengths, ahead of the first query. */
	function prefetch() {
		ready().then(function () { return load('l/' + manifest.l); }).catch(function () {});
	}

	HB.tokenize = tokenize;
	HB.normalize = normalize;
	HB.units = units;
	HB.search = search;
	HB.results = results;
	HB.facets = function () { return ready().then(facets); };
	HB.setRoot = function (r) { root = r; };
	HB.manifest = function () { return manifest; };

	if (typeof module !== 'undefined' && module.exports) module.exports = HB;
	if (typeof document === 'undefined' || !document.querySelector) return;

	/* ---------------------------------------------------------- UI */
	var me = document.currentScript;
	if (me && me.hasAttribute('data-root')) root = me.getAttribute('data-root');
	else if (me && me.src) root = me.getAttribute('src').replace(/assets\/search\.js(\?.*)?$/, '');
	var ja = /^ja/i.test(document.documentElement.lang || '');
	var T = ja ? {
		found: function (n) { return n + ' 件見つかりました'; },
		none: '見つかりませんでした', partial: 'すべての語を含むページはありません。いずれかの語を含むページ:',
		loading: '検索中…', error: '検索インデックスを読み込めませんでした', more: 'さらに表示',
		all: 'すべての結果を見る', type: '種類', control: '管理策', tag: 'タグ', year: '年',
		label: '検索結果', filtered: function (n) { return n + ' 件（絞り込み中）'; }
	} : {
		found: function (n) { return n + (n === 1 ? ' result' : ' results'); },
		none: 'No results', partial: 'No page contains every word. Pages containing some of them:',
		loading: 'Searching…', error: 'Could not load the search index', more: 'Show more',
		all: 'See all results', type: 'Type', control: 'Control', tag: 'Tag', year: 'Year',
		label: 'Search results', filtered: function (n) { return n + ' results (filtered)'; }
	};
	function el(tag, attrs, kids) {
		var e = document.createElement(tag);
		Object.keys(attrs || {}).forEach(function (k) {
			if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]);
		});
		(kids || []).forEach(function (c) { if (c) e.appendChild(c); });
		return e;
	}
	function pieces(ps) {
		var f = document.createDocumentFragment();
		ps.forEach(function (p) {
			f.appendChild(p[1] ? el('mark', { text: p[0] }) : document.createTextNode(p[0]));
		});
		return f;
	}
	function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
	function debounce(fn, ms) {
		var t;
		return function () { var a = arguments; clearTimeout(t); t = setTimeout(function () { fn.apply(null, a); }, ms); };
	}
	function queryFromUrl() {
		var m = /[?&]q=([^&#]*)/.exec(location.search) || /[#&]q=([^&]*)/.exec(location.hash);
		if (!m) return '';
		try { return decodeURIComponent(m[1].replace(/\+/g, ' ')); } catch (e) { return ''; }
	}

	/* Calls fn on input, but not while an IME composition is open (the
	 * half-typed reading is not a query); compositionend runs it. */
	function onInput(input, fn) {
		input.addEventListener('input', function (e) { if (!e.isComposing) fn(); });
		input.addEventListener('compositionend', function () { fn(); });
	}

	/* Search page */
	function bindPage(input) {
		var list = document.querySelector('[data-search-results]'),
			status = document.querySelector('[data-search-status]'),
			fbox = document.querySelector('[data-search-facets]'),
			sel = { type: {}, control: {}, tag: {}, year: {} }, seq = 0, fdata = null, shown = 20;
		if (list && !list.hasAttribute('aria-label')) list.setAttribute('aria-label', T.label);
		function setStatus(s) { if (status) status.textContent = s; }
		/* facet value v is chosen (controls are hierarchical: A.5 takes A.5.1) */
		function chosen(f, v) {
			if (sel[f][v]) return true;
			return f === 'control' && Object.keys(sel.control).some(function (k) {
				return v.toLowerCase().indexOf(k.toLowerCase() + '.') === 0;
			});
		}
		function passes(id) {
			return Object.keys(sel).every(function (f) {
				var want = Object.keys(sel[f]);
				if (!want.length || !fdata) return true;
				return fdata[f].some(function (v) { return chosen(f, v[0]) && v[3].has(id); });
			});
		}
		function natural(a, b) {
			var x = a.split(/(\d+)/), y = b.split(/(\d+)/);
			for (var i = 0; i < x.length && i < y.length; i++) {
				if (x[i] === y[i]) continue;
				if (i % 2) return +x[i] - +y[i];
				return x[i] < y[i] ? -1 : 1;
			}
			return x.length - y.length;
		}
		function drawFacets(ids) {
			if (!fbox || !fdata) return;
			clear(fbox);
			var inRes = new Set(ids);
			['type', 'control', 'tag', 'year'].forEach(function (f) {
				var vals = fdata[f].slice().sort(function (a, b) {
					return f === 'year' ? (a[0] < b[0] ? 1 : -1) : natural(a[0], b[0]);
				}).map(function (v) {
					return [v, v[2].filter(function (id) { return inRes.has(id); }).length];
				}).filter(function (x) { return x[1] > 0 || sel[f][x[0][0]]; });
				if (!vals.length) return;
				var fs = el('fieldset', { 'class': 'search-facet', 'data-facet': f }, [el('legend', { text: T[f] })]);
				vals.forEach(function (x) {
					var cb = el('input', { type: 'checkbox', value: x[0][0] });
					cb.checked = !!sel[f][x[0][0]];
					cb.addEventListener('change', function () {
						if (cb.checked) sel[f][x[0][0]] = 1; else delete sel[f][x[0][0]];
						run();
					});
					fs.appendChild(el('label', {}, [cb, document.createTextNode(' ' + x[0][1] + ' (' + x[1] + ')')]));
				});
				fbox.appendChild(fs);
			});
		}
		function draw(res, hits) {
			var my = seq;
			return results({ hits: hits, units: res.units }, 0, shown, 160).then(function (rs) {
				if (my !== seq || !list) return;
				clear(list);
				rs.forEach(function (r) {
					var meta = el('div', { 'class': 'search-meta' }, [
						el('span', { 'class': 'search-type', text: r.typeLabel || r.type }),
						r.heading ? el('span', { 'class': 'search-section', text: r.heading }) : null,
						r.date ? el('span', { 'class': 'search-date', text: r.date }) : null]);
					var p = el('p', { 'class': 'search-excerpt' });
					p.appendChild(pieces(r.excerpt));
					list.appendChild(el('li', { 'class': 'search-result', 'data-type': r.type }, [
						el('a', { href: r.href, text: r.title }), meta, p]));
				});
				if (hits.length > shown) {
					var b = el('button', { type: 'button', 'class': 'search-more', text: T.more });
					b.addEventListener('click', function () { shown += 20; run(); });
					list.appendChild(el('li', { 'class': 'search-more-item' }, [b]));
				}
			});
		}
		function run() {
			var q = input.value, my = ++seq;
			setStatus(T.loading);
			var anySel = Object.keys(sel).some(function (f) { return Object.keys(sel[f]).length; });
			/* the first results come from the heads of the index when
			 * they can (a few KB); counts and facets need every hit */
			var first = anySel || !units(q).length ? Promise.resolve() :
				search(q, { top: shown }).then(function (res) {
					if (my === seq && res.more) return draw(res, res.hits);
				});
			first.catch(function () { /* the whole search reports */ }).then(function () {
				if (my !== seq) return null;
				return Promise.all([search(q), fbox || anySel ? facets().then(function (f) { fdata = f; }) : null]);
			}).then(function (a) {
				if (!a || my !== seq) return;
				var res = a[0], hits = res.hits;
				/* no query: facets count (and filters browse) every document */
				if (!res.units.length)
					hits = Array.from({ length: manifest.n }, function (x, i) { return { id: i, score: 0, m: [] }; });
				drawFacets(hits.map(function (h) { return h.id; }));
				var kept = hits.filter(function (h) { return passes(h.id); });
				if (!res.units.length && !anySel) { setStatus(''); if (list) { clear(list); list.setAttribute('data-search-query', q); } return; }
				setStatus(!kept.length ? T.none : res.partial ? T.partial + ' ' + T.found(kept.length) :
					kept.length < hits.length ? T.filtered(kept.length) : T.found(kept.length));
				return draw(res, kept).then(function () {
					if (my === seq && list) list.setAttribute('data-search-query', q);
				});
			}).catch(function (e) { if (my === seq) setStatus(T.error); if (W.console) console.error(e); });
		}
		var later = debounce(function () {
			shown = 20;
			try {
				var h = '#q=' + encodeURIComponent(input.value);
				if (location.hash !== h) history.replaceState(null, '', location.pathname + location.search.replace(/([?&])q=[^&]*&?/, '$1').replace(/[?&]$/, '') + h);
			} catch (e) { /* file:// policies may refuse */ }
			run();
		}, 150);
		onInput(input, later);
		if (input.form) input.form.addEventListener('submit', function (e) { e.preventDefault(); later(); });
		input.value = queryFromUrl() || input.value;
		run();
	}

	/* Header box with instant results */
	var nbox = 0;
	function bindBox(input) {
		var form = input.form || input.closest('form'),
			drop = form && form.querySelector('[data-search-dropdown]'), seq = 0, active = -1, items = [];
		if (!drop) return;
		var id = 'search-listbox-' + (++nbox);
		drop.id = drop.id || id;
		drop.setAttribute('role', 'listbox');
		drop.setAttribute('aria-label', T.label);
		input.setAttribute('role', 'combobox');
		input.setAttribute('aria-autocomplete', 'list');
		input.setAttribute('aria-controls', drop.id);
		input.setAttribute('aria-expanded', 'false');
		input.setAttribute('autocomplete', 'off');
		function close() {
			drop.hidden = true;
			input.setAttribute('aria-expanded', 'false');
			input.removeAttribute('aria-activedescendant');
			active = -1;
		}
		function setActive(k) {
			items.forEach(function (it, i) { it.setAttribute('aria-selected', i === k ? 'true' : 'false'); });
			active = k;
			if (k >= 0) input.setAttribute('aria-activedescendant', items[k].id);
			else input.removeAttribute('aria-activedescendant');
		}
		var run = debounce(function () {
			var q = input.value, my = ++seq;
			if (!units(q).length) { close(); return; }
			search(q, { top: 8 }).then(function (res) {
				return results(res, 0, 8, 80).then(function (rs) {
					if (my !== seq) return;
					clear(drop);
					items = [];
					if (!rs.length) {
						drop.appendChild(el('div', { 'class': 'search-empty', text: T.none }));
					}
					rs.forEach(function (r, i) {
						var a = el('a', { href: r.href, role: 'option', id: drop.id + '-' + i, 'aria-selected': 'false', 'class': 'search-option' }, [
							el('span', { 'class': 'search-title', text: r.title }),
							el('span', { 'class': 'search-type', text: r.typeLabel || r.type })]);
						var p = el('span', { 'class': 'search-excerpt' });
						p.appendChild(pieces(r.excerpt));
						a.appendChild(p);
						items.push(a);
						drop.appendChild(a);
					});
					if (res.more || res.hits.length > rs.length) {
						var all = el('a', { 'class': 'search-all', href: (form.getAttribute('action') || root + 'search.html') + '?q=' + encodeURIComponent(q), text: T.all + (res.more ? '' : ' (' + res.hits.length + ')') });
						all.setAttribute('role', 'option');
						all.id = drop.id + '-all';
						items.push(all);
						drop.appendChild(all);
					}
					drop.hidden = false;
					input.setAttribute('aria-expanded', 'true');
					setActive(-1);
				});
			}).catch(function (e) { if (W.console) console.error(e); });
		}, 120);
		onInput(input, run);
		input.addEventListener('focus', prefetch);
		input.addEventListener('keydown', function (e) {
			if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
				if (drop.hidden || !items.length) return;
				e.preventDefault();
				var k = active + (e.key === 'ArrowDown' ? 1 : -1);
				setActive(k < -1 ? items.length - 1 : k >= items.length ? -1 : k);
			} else if (e.key === 'Enter' && active >= 0 && !drop.hidden) {
				e.preventDefault();
				location.href = items[active].href;
			} else if (e.key === 'Escape') {
				if (!drop.hidden) { e.preventDefault(); close(); }
			}
		});
		document.addEventListener('click', function (e) { if (!form.contains(e.target)) close(); });
	}

	function init() {
		Array.prototype.forEach.call(document.querySelectorAll('[data-search-input]'), function (input) {
			if (input.hasAttribute('data-search-page')) bindPage(input); else bindBox(input);
		});
	}
	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
	else init();
})();

/*
 * search_bench: a benchmark (figures only, nothing asserted).
 *
 *   search_bench [-n DOCS] [-t THREADS] [-o OUTDIR] [-q]
 *
 * Generates a deterministic mixed Japanese/English handbook-like corpus
 * (default 10,000 documents of about 4 KB of text; words drawn from a
 * 6,000-word Zipf vocabulary, handbook terms at ranks 20..~700), indexes it with
 * srch_add/srch_write and prints build time, file count, bytes, the gzip
 * size of the manifest and of the runtime.  Unless -q, it then runs
 * tests/search/bench-queries.mjs (node) on the result for per-query bytes
 * and evaluation time of a fixed query list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "diag.h"
#include "search.h"
#include "util.h"

static const char *const words[] = {
	"情報", "セキュリティ", "方針", "管理", "手順", "従業員", "パスワード",
	"多要素認証", "バックアップ", "暗号化", "ウイルス", "対策", "標的型メール",
	"訓練", "教育", "記録", "確認", "責任者", "定期的", "実施", "機密",
	"漏えい", "事故", "報告", "端末", "持ち出し", "USBメモリ", "クラウド",
	"サービス", "委託先", "契約", "監査", "点検", "更新", "ソフトウェア",
	"脆弱性", "パッチ", "適用", "不審", "添付ファイル", "開封", "禁止",
	"許可", "申請", "承認", "廃棄", "書類", "施錠", "クリアデスク", "入退室",
	"来訪者", "ランサムウェア", "被害", "復旧", "計画", "連絡", "体制",
	"ログ", "監視", "EDR", "VPN", "無線LAN", "個人情報", "取引先", "サーバー",
};
static const char *const kanji =
    "安全性能力業務運用設計開発試験評価分析対応処理作成保存送信受信接続認可"
    "権限範囲基準規則規定文書資料担当部門組織社員顧客利用環境状態結果原因"
    "影響重要必要可能問題課題改善予防検知遮断隔離復元期間年月日週時間場所";
static const char *const particles[] = { "は", "を", "に", "が", "の", "で", "と", "から" };
static const char *const verbs[] = {
	"する。", "します。", "しなければならない。", "を行う。", "を確認する。",
	"を記録する。", "に報告する。", "こと。", "とする。"
};
static const char *const en[] = {
	"backup", "restore", "policy", "access", "control", "incident",
	"response", "endpoint", "detection", "password", "network", "server",
	"review", "audit", "training", "iso-27001", "phishing", "malware",
};
static const char *const controls[] = {
	"5.1", "5.15", "5.17", "5.24", "6.3", "7.7", "7.10", "8.1", "8.5",
	"8.7", "8.13", "8.15", "8.16", "A.5.1", "A.8.13",
};

static unsigned
rnd(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

#define PICK(a) (a)[rnd(seed) % (sizeof(a) / sizeof(*(a)))]

#define VOCAB 6000

/* The vocabulary in Zipf rank order: generated kanji compounds and katakana
 * words, with the handbook words and the English words spread over ranks
 * 20..~1000 (common but not everywhere, as in real handbooks). */
struct vocab {
	char	*w[VOCAB];
	double	 cum[VOCAB];
};

static void
vocab_init(struct vocab *v, unsigned *seed)
{
	static const char *const kana =
	    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモ"
	    "ヤユヨラリルレロワンガギグゲゴザジズゼゾダデドバビブベボパピプペポー";
	size_t nk = strlen(kanji) / 3, nka = strlen(kana) / 3, i, k, n;
	double sum = 0;
	struct buf b = BUF_INIT;

	for (i = 0; i < VOCAB; i++) {
		buf_reset(&b);
		if (i >= 20 && (i - 20) % 10 == 0 &&
		    (i - 20) / 10 < sizeof(words) / sizeof(*words)) {
			buf_puts(&b, words[(i - 20) / 10]);
		} else if (i >= 25 && (i - 25) % 40 == 0 &&
		    (i - 25) / 40 < sizeof(en) / sizeof(*en)) {
			buf_puts(&b, en[(i - 25) / 40]);
		} else if (rnd(seed) % 4 == 0) {
			n = 3 + rnd(seed) % 4;
			for (k = 0; k < n; k++)
				buf_put(&b, kana + 3 * (rnd(seed) % nka), 3);
		} else {
			n = 2 + rnd(seed) % 2;
			for (k = 0; k < n; k++)
				buf_put(&b, kanji + 3 * (rnd(seed) % nk), 3);
		}
		v->w[i] = xstrdup(b.ptr);
		sum += 1.0 / (i + 1);
		v->cum[i] = sum;
	}
	for (i = 0; i < VOCAB; i++)
		v->cum[i] /= sum;
	buf_release(&b);
}

/* One random word (Zipf), sometimes a control id. */
static void
word(struct buf *b, unsigned *seed, const struct vocab *v)
{
	double x = (rnd(seed) * 32768.0 + rnd(seed)) / (32768.0 * 32768.0);
	size_t lo = 0, hi = VOCAB - 1;

	if (rnd(seed) % 200 == 0) {
		buf_puts(b, PICK(controls));
		return;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v->cum[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	buf_puts(b, v->w[lo]);
}

static char *
prose(unsigned *seed, size_t bytes, const struct vocab *v)
{
	struct buf b = BUF_INIT;
	int k, n;

	while (b.len < bytes) {
		n = 2 + (int)(rnd(seed) % 3);
		for (k = 0; k < n; k++) {
			word(&b, seed, v);
			if (k + 1 < n)
				buf_puts(&b, PICK(particles));
		}
		buf_puts(&b, PICK(verbs));
	}
	return buf_detach(&b);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long
gz_size(const char *path)
{
	char *cmd = xasprintf("gzip -9c '%s' | wc -c", path);
	FILE *p = popen(cmd, "r");
	long n = -1;

	if (p) {
		if (fscanf(p, "%ld", &n) != 1)
			n = -1;
		pclose(p);
	}
	free(cmd);
	return n;
}

int
main(int argc, char **argv)
{
	int n = 10000, threads = 0, quiet = 0, c, i, k;
	const char *out = "/tmp/tebiki-search-bench";
	unsigned seedv = 7, *seed = &seedv;
	static const char *const types[][2] = {
		{ "policy", "規程" }, { "procedure", "手順書" },
		{ "seminar", "セミナー" }, { "incident", "インシデント報告" } };
	struct srch *s;
	static struct vocab voc;
	struct srch_stats st;
	struct diag d;
	double t0, t1, t2;
	size_t text = 0, head = 0;
	char *path, *cmd;

	while ((c = getopt(argc, argv, "n:t:o:qH:")) != -1) {
		if (c == 'H')
			head = (size_t)atol(optarg);
		else if (c == 'n')
			n = atoi(optarg);
		else if (c == 't')
			threads = atoi(optarg);
		else if (c == 'o')
			out = optarg;
		else if (c == 'q')
			quiet = 1;
		else
			return 2;
	}
	diag_init(&d);
	vocab_init(&voc, seed);
	s = srch_new();
	srch_set_threads(s, threads);
	srch_set_head(s, head);
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		struct srch_section sec[4];
		struct srch_doc doc;
		const char *ctl[2], *tags[2];
		char *url = xasprintf("docs/%05d.html", i), *title = prose(seed, 30, &voc);
		char *date = xasprintf("20%02u-%02u-%02u", 18 + rnd(seed) % 8,
		    1 + rnd(seed) % 12, 1 + rnd(seed) % 28);
		char *anchors[4], *heads[4], *texts[4];

		for (k = 0; k < 4; k++) {
			anchors[k] = k ? xasprintf("s%d", k) : xstrdup("");
			heads[k] = k ? prose(seed, 20, &voc) : xstrdup("");
			texts[k] = prose(seed, 1000, &voc);
			text += strlen(texts[k]);
			sec[k].anchor = anchors[k];
			sec[k].heading = heads[k];
			sec[k].text = texts[k];
		}
		ctl[0] = PICK(controls);
		ctl[1] = PICK(controls);
		tags[0] = PICK(words);
		tags[1] = PICK(words);
		memset(&doc, 0, sizeof(doc));
		doc.url = url;
		doc.title = title;
		doc.type = types[i % 4][0];
		doc.type_label = types[i % 4][1];
		doc.lang = "ja";
		doc.date = date;
		doc.controls = ctl;
		doc.ncontrols = 1 + (size_t)(i % 2);
		doc.tags = tags;
		doc.ntags = 2;
		doc.sections = sec;
		doc.nsections = 4;
		srch_add(s, &doc);
		for (k = 0; k < 4; k++) {
			free(anchors[k]);
			free(heads[k]);
			free(texts[k]);
		}
		free(url);
		free(title);
		free(date);
	}
	t1 = now_ms();
	if (srch_write(s, out, &d) == -1) {
		if (d.n)
			diag_flush(&d, stderr, DIAG_TEXT);
		return 1;
	}
	t2 = now_ms();
	srch_get_stats(s, &st);
	path = xasprintf("%s/search/manifest.js", out);
	printf("docs              %zu (%.1f MB of body text)\n", st.docs,
	    text / 1e6);
	printf("add ms            %.0f\n", t1 - t0);
	printf("write ms          %.0f (tokenize %.0f, merge %.0f, write %.0f; "
	    "%d threads)\n", t2 - t1, st.tokenize_ms, st.merge_ms, st.write_ms,
	    threads);
	printf("terms             %zu\n", st.terms);
	printf("files             %zu (%zu term, %zu tail, %zu position, "
	    "%zu doc shards)\n", st.files, st.term_shards, st.tail_shards,
	    st.pos_shards, st.doc_shards);
	printf("split terms       %zu\n", st.split_terms);
	printf("bytes             %zu\n", st.bytes);
	printf("largest shard     %zu\n", st.largest_shard);
	printf("manifest          %zu bytes, %ld gz\n", st.manifest_bytes,
	    gz_size(path));
	free(path);
	printf("runtime search.js %ld gz\n",
	    gz_size("themes/default/assets/search.js"));
	fflush(stdout);
	srch_free(s);
	diag_release(&d);
	for (i = 0; i < VOCAB; i++)
		free(voc.w[i]);
	if (quiet)
		return 0;
	cmd = xasprintf("node tests/search/bench-queries.mjs '%s'", out);
	if (system(cmd) != 0)
		fputs("search_bench: per-query figures need node (run from the repo root)\n",
		    stderr);
	free(cmd);
	return 0;
}

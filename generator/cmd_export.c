/*
 * cmd_export: `tebiki export ID --single-file` -- one self-contained HTML
 * file of a document: its print rendering (print-selection.html of a
 * temporary build) with the stylesheets inlined in one <style> element
 * (allowed by a Content-Security-Policy hash instead of the site's
 * policy), images as data: URIs, no scripts, and links to the rest of the
 * site as absolute URLs under site.yaml's base_url, or plain text without
 * one.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "build.h"
#include "cmd.h"
#include "diag.h"
#include "print.h"
#include "sha256.h"
#include "site.h"
#include "util.h"

static const char export_usage[] =
    "usage: tebiki export ID --single-file [-s DIR] [-o FILE]\n"
    "                     [--audience A] [--today YYYY-MM-DD]\n"
    "\n"
    "Writes one document as a single self-contained HTML file: the\n"
    "stylesheet inlined, images as data: URIs, no scripts.  Links to other\n"
    "pages become absolute URLs under base_url (site.yaml), or plain text\n"
    "when the site has no base_url.\n"
    "\n"
    "  -s, --source DIR     site directory (default .)\n"
    "  -o, --output FILE    the file to write (default ID.html)\n"
    "      --single-file    the only export format so far (required)\n"
    "      --audience A     public, internal or confidential: refuse a\n"
    "                       document above audience A\n"
    "      --today DATE     the date the build treats as today\n"
    "  -q, --quiet          no summary line\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 written, 1 content errors, 2 usage or environment "
    "errors.\n";

/* What the rewriting needs. */
struct exp {
	const char	*site;		/* the built site */
	const char	*base_url;	/* NULL: links become text */
	const char	*css;		/* the inlined stylesheets */
	int		 styled;	/* the <style> element is written */
	int		 drop_a;	/* </a> tags still to drop */
	int		 failed;
};

/* Appends the base64 encoding of p[0..n). */
static void
base64(struct buf *o, const unsigned char *p, size_t n)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	unsigned long v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 |
		    p[i + 2];
		buf_putc(o, al[v >> 18 & 63]);
		buf_putc(o, al[v >> 12 & 63]);
		buf_putc(o, al[v >> 6 & 63]);
		buf_putc(o, al[v & 63]);
	}
	if (n - i == 1) {
		v = (unsigned long)p[i] << 16;
		buf_putc(o, al[v >> 18 & 63]);
		buf_putc(o, al[v >> 12 & 63]);
		buf_puts(o, "==");
	} else if (n - i == 2) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;
		buf_putc(o, al[v >> 18 & 63]);
		buf_putc(o, al[v >> 12 & 63]);
		buf_putc(o, al[v >> 6 & 63]);
		buf_putc(o, '=');
	}
}

/* MIME type of an image by its file name. */
static const char *
mime_type(const char *path)
{
	static const char *const t[][2] = {
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
		{ ".svg", "image/svg+xml" }, { ".webp", "image/webp" },
		{ ".avif", "image/avif" }, { ".ico", "image/x-icon" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (util_has_suffix(path, t[i][0]))
			return t[i][1];
	return "application/octet-stream";
}

/* The file of the built site a root-relative URL names (no query or
 * fragment, %XX decoded, no ".."); caller frees, NULL when unsafe. */
static char *
site_file(const struct exp *x, const char *url)
{
	char *dec = util_href_decode(url, strcspn(url, "?#")), *path = NULL;

	if (*dec && *dec != '/' && strstr(dec, "..") == NULL)
		path = util_path_join(x->site, dec);
	free(dec);
	return path;
}

/* Value of attribute `name` in the start tag s[0..len) (raw, escaped);
 * caller frees; NULL when absent. */
static char *
attr(const char *s, size_t len, const char *name)
{
	size_t i = 1, ns, ne, vs;
	char q;

	while (i < len && !strchr(" \t\n>", s[i]))
		i++;
	while (i < len) {
		while (i < len && strchr(" \t\n/", s[i]))
			i++;
		ns = i;
		while (i < len && !strchr(" \t\n=>", s[i]))
			i++;
		ne = i;
		if (i >= len || s[i] != '=') {
			if (i < len && s[i] == '>')
				break;
			continue;
		}
		i++;
		q = (i < len && (s[i] == '"' || s[i] == '\'')) ? s[i++] : 0;
		vs = i;
		while (i < len && (q ? s[i] != q : !strchr(" \t\n>", s[i])))
			i++;
		if (ne - ns == strlen(name) &&
		    strncasecmp(s + ns, name, ne - ns) == 0)
			return xstrndup(s + vs, i - vs);
		if (q && i < len)
			i++;
	}
	return NULL;
}

/* Case-insensitive strstr. */
static const char *
find_ci(const char *s, const char *pat)
{
	size_t n = strlen(pat);

	for (; *s; s++)
		if (strncasecmp(s, pat, n) == 0)
			return s;
	return NULL;
}

/* Copies the start tag s[0..len) replacing the value of attribute
 * `name` by `val` (already escaped). */
static void
put_tag_with(struct buf *o, const char *s, size_t len, const char *name,
    const char *val)
{
	char *pat = xasprintf(" %s=\"", name);
	const char *p = NULL, *e;
	size_t i;

	for (i = 0; i + strlen(pat) <= len; i++)
		if (strncmp(s + i, pat, strlen(pat)) == 0) {
			p = s + i;
			break;
		}
	if (p == NULL) {
		buf_put(o, s, len);
		free(pat);
		return;
	}
	p += strlen(pat);
	e = memchr(p, '"', len - (size_t)(p - s));
	buf_put(o, s, (size_t)(p - s));
	buf_puts(o, val);
	if (e)
		buf_put(o, e, len - (size_t)(e - s));
	else
		buf_puts(o, "\">");
	free(pat);
}

/* 1 when the tag s[0..len) is a start tag `name` (any case). */
static int
tag_is(const char *s, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n + 1 && strncasecmp(s + 1, name, n) == 0 &&
	    strchr(" \t\n>/", s[n + 1]) != NULL;
}

/* Rewrites one tag s[0..len) of the page into `o`. */
static void
export_tag(struct exp *x, const char *s, size_t len, struct buf *o)
{
	char *v = NULL, *path = NULL;

	if (tag_is(s, len, "meta")) {
		v = attr(s, len, "http-equiv");
		if (v && strcasecmp(v, "Content-Security-Policy") == 0) {
			unsigned char dig[32];

			sha256_sum(x->css, strlen(x->css), dig);
			buf_puts(o, "<meta http-equiv=\"Content-Security-Policy\" "
			    "content=\"default-src 'none'; img-src data:; "
			    "style-src 'sha256-");
			base64(o, dig, sizeof(dig));
			buf_puts(o, "'\">");
		} else {
			buf_put(o, s, len);
		}
	} else if (tag_is(s, len, "link")) {
		v = attr(s, len, "rel");
		if (v && strcmp(v, "stylesheet") == 0 && !x->styled) {
			buf_puts(o, "<style>");
			buf_puts(o, x->css);
			buf_puts(o, "</style>");
			x->styled = 1;
		}
		/* other links (icons, further stylesheets) are dropped */
	} else if (tag_is(s, len, "img")) {
		v = attr(s, len, "src");
		if (v && !util_url_is_external(v) && strncmp(v, "data:", 5) != 0 &&
		    (path = site_file(x, v)) != NULL) {
			struct buf f = BUF_INIT, u = BUF_INIT;

			if (util_read_file(path, &f) == 0) {
				buf_printf(&u, "data:%s;base64,",
				    mime_type(path));
				base64(&u, (const unsigned char *)f.ptr, f.len);
				put_tag_with(o, s, len, "src", u.ptr);
			} else {
				fprintf(stderr, "tebiki: cannot read image "
				    "'%s'\n", v);
				x->failed = 1;
			}
			buf_release(&f);
			buf_release(&u);
		} else {
			buf_put(o, s, len);
		}
	} else if (tag_is(s, len, "a")) {
		v = attr(s, len, "href");
		if (v == NULL || *v == '#' || util_url_is_external(v)) {
			buf_put(o, s, len);
		} else if (x->base_url) {
			size_t bl = strlen(x->base_url);
			char *abs = xasprintf("%.*s/%s", (int)(bl &&
			    x->base_url[bl - 1] == '/' ? bl - 1 : bl),
			    x->base_url, *v == '/' ? v + 1 : v);
			struct buf e = BUF_INIT;

			buf_put_html(&e, abs, strlen(abs));
			put_tag_with(o, s, len, "href", e.ptr);
			buf_release(&e);
			free(abs);
		} else {
			x->drop_a++;	/* the text stays, the link goes */
		}
	} else if (len >= 4 && strncasecmp(s, "</a>", 4) == 0 && x->drop_a) {
		x->drop_a--;
	} else {
		buf_put(o, s, len);
	}
	free(v);
	free(path);
}

/* Turns the page `html` into the single file in `o`; -1 after a message. */
static int
export_page(struct exp *x, const char *html, struct buf *o)
{
	const char *s = html, *e, *q;
	char qc;

	while (*s) {
		if (strncmp(s, "<!--", 4) == 0) {
			e = strstr(s + 4, "-->");
			s = e ? e + 3 : s + strlen(s);
		} else if (strncasecmp(s, "<script", 7) == 0) {
			e = find_ci(s, "</script>");
			s = e ? e + 9 : s + strlen(s);
		} else if (*s == '<' && (s[1] == '/' || (s[1] >= 'a' &&
		    s[1] <= 'z') || (s[1] >= 'A' && s[1] <= 'Z'))) {
			for (q = s + 1, qc = 0; *q && (qc || *q != '>'); q++)
				if (qc && *q == qc)
					qc = 0;
				else if (!qc && (*q == '"' || *q == '\''))
					qc = *q;
			e = *q ? q + 1 : q;
			export_tag(x, s, (size_t)(e - s), o);
			s = e;
		} else {
			buf_putc(o, *s++);
		}
	}
	return x->failed ? -1 : 0;
}

/* Reads the stylesheets the page links (in order) into `css`, without
 * @charset rules; -1 after a message. */
static int
read_styles(const struct exp *x, const char *html, struct buf *css)
{
	const char *s = html, *e;
	char *rel, *href, *path;
	struct buf f = BUF_INIT;
	int rc = 0;

	while ((s = strstr(s, "<link ")) != NULL) {
		e = strchr(s, '>');
		if (e == NULL)
			break;
		rel = attr(s, (size_t)(e - s + 1), "rel");
		href = attr(s, (size_t)(e - s + 1), "href");
		if (rel && href && strcmp(rel, "stylesheet") == 0) {
			path = site_file(x, href);
			buf_reset(&f);
			if (path == NULL || util_read_file(path, &f) == -1) {
				fprintf(stderr, "tebiki: cannot read the "
				    "stylesheet '%s'\n", href);
				rc = -1;
			} else {
				const char *t = f.ptr;

				if (strncmp(t, "@charset", 8) == 0 &&
				    strchr(t, ';'))
					t = strchr(t, ';') + 1;
				buf_puts(css, "\n");
				buf_puts(css, t);
			}
			free(path);
		}
		free(rel);
		free(href);
		s = e;
	}
	buf_release(&f);
	/* "</style" inside CSS would end the element early */
	if (strstr(css->ptr, "</")) {
		fprintf(stderr, "tebiki: a stylesheet contains '</'\n");
		rc = -1;
	}
	return rc;
}

/* `tebiki export`: see export_usage. */
int
cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "single-file", no_argument, NULL, 'S' },
		{ "audience", required_argument, NULL, 'A' },
		{ "today", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct build_opts o;
	struct site_config cfg;
	struct diag d;
	struct exp x;
	struct buf page = BUF_INIT, css = BUF_INIT, out = BUF_INIT;
	const char *ids[2] = { NULL, NULL }, *output = NULL;
	char *tmp = NULL, *site = NULL, *path = NULL, *dflt = NULL;
	int c, single = 0, quiet = 0, status = CMD_USAGE, have_cfg = 0;

	memset(&o, 0, sizeof(o));
	memset(&x, 0, sizeof(x));
	o.src_dir = ".";
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.src_dir = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'S':
			single = 1;
			break;
		case 'A':
			if (cmd_opt_audience(optarg, &o.audience) == -1)
				return CMD_USAGE;
			break;
		case 'T':
			if (cmd_opt_today(optarg, &o.today_y, &o.today_m,
			    &o.today_d) == -1)
				return CMD_USAGE;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(export_usage, stdout);
			return CMD_OK;
		default:
			fputs(export_usage, stderr);
			return CMD_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "tebiki: export needs exactly one document "
		    "id\n");
		fputs(export_usage, stderr);
		return CMD_USAGE;
	}
	if (!single) {
		fprintf(stderr, "tebiki: export needs --single-file (the only "
		    "export format)\n");
		return CMD_USAGE;
	}
	ids[0] = argv[optind];
	o.print_ids = ids;
	diag_init(&d);
	d.quiet = 1;	/* content warnings are for `tebiki check` */
	tmp = prn_build_temp(&o, &d, &status);
	if (tmp) {
		memset(&cfg, 0, sizeof(cfg));
		have_cfg = 1;
		site_config_load(&cfg, o.src_dir, &d);
	}
	diag_flush(&d, stderr, DIAG_TEXT);
	diag_release(&d);
	if (tmp == NULL)
		goto out;
	status = CMD_USAGE;
	site = util_path_join(tmp, "site");
	path = util_path_join(site, "print-selection.html");
	if (util_read_file(path, &page) == -1) {
		fprintf(stderr, "tebiki: the theme has no print layout "
		    "(layouts/print.mustache); nothing to export\n");
		goto out;
	}
	x.site = site;
	x.base_url = cfg.base_url && *cfg.base_url ? cfg.base_url : NULL;
	if (read_styles(&x, page.ptr, &css) == -1)
		goto out;
	x.css = css.ptr;
	if (export_page(&x, page.ptr, &out) == -1)
		goto out;
	if (output == NULL)
		output = dflt = xasprintf("%s.html", ids[0]);
	if (util_write_file(output, out.ptr, out.len) == -1) {
		fprintf(stderr, "tebiki: cannot write '%s'\n", output);
		goto out;
	}
	if (!quiet)
		fprintf(stderr, "tebiki: wrote '%s'\n", output);
	status = CMD_OK;
out:
	if (have_cfg)
		site_config_release(&cfg);
	if (tmp)
		util_rmtree(tmp);
	free(tmp);
	free(site);
	free(path);
	free(dflt);
	buf_release(&page);
	buf_release(&css);
	buf_release(&out);
	return status;
}

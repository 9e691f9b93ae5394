/*
 * cmd_serve: `tebiki serve`, live preview while editing.
 *
 * Builds the site into a private directory under $TMPDIR, serves it
 * (serve.c), watches the sources (watch.c) and rebuilds 150 ms after the
 * last change (at most 1 s after the first one of a burst).  SIGINT and
 * SIGTERM arrive through a signalfd and end the loop; the private
 * directory is removed on the way out.
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "build.h"
#include "cmd.h"
#include "diag.h"
#include "ledger.h"
#include "preview.h"
#include "serve.h"
#include "site.h"
#include "util.h"
#include "watch.h"

#define DEFAULT_PORT	8808
#define DEBOUNCE_MS	150	/* quiet time before a rebuild */
#define DEBOUNCE_MAX_MS	1000	/* longest delay under constant change */
#define PREVIEW_MS	20	/* quiet time before a preview */
#define MAX_RELOAD	2000	/* pages named in one reload, at most */

static const char serve_usage[] =
    "usage: tebiki serve [-s DIR] [-p PORT] [-b ADDR] [-j N]\n"
    "                    [--today YYYY-MM-DD] [--no-preview]\n"
    "\n"
    "Builds the site in DIR into a private temporary directory, serves it\n"
    "over HTTP and rebuilds it whenever site.yaml or a file under content/,\n"
    "layouts/, themes/, filters/, data/, catalogs/ or assets/ changes.  Open\n"
    "pages reload by themselves; when a build fails the errors are printed\n"
    "here and shown over every page while the last good build stays served.\n"
    "A page whose body alone changed is shown at once, rendered by a copy\n"
    "of the last build kept for that; the whole build follows.  Ctrl-C\n"
    "stops the server and removes the private directory.\n"
    "\n"
    "  -s, --source DIR     site directory (default .)\n"
    "  -p, --port N         TCP port (default 8808; 0 picks a free one)\n"
    "  -b, --bind ADDR      numeric address to listen on (default 127.0.0.1)\n"
    "  -j, --jobs N         worker threads (default: number of CPUs)\n"
    "      --today DATE     the date the build treats as today (YYYY-MM-DD)\n"
    "      --no-preview     no early page: every change waits for the build\n"
    "                       (and no copy of the build is kept in memory)\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 stopped by a signal, 2 usage or environment errors\n"
    "(such as a port already in use).\n";

/* Milliseconds on the monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line of a manifest: "<sha256>  <path>". */
struct mline {
	const char	*hash;		/* 64 hex digits */
	const char	*path;
};

/* The lines of manifest text m (paths NUL-terminated in place). */
static struct mline *
mlines(struct buf *m, size_t *n)
{
	struct mline *v = NULL;
	char *pos = m->ptr, *hex, *path;
	size_t cap = 0, len;

	*n = 0;
	while (ldg_next_line(&pos, m->ptr + m->len, &hex, &path, &len)) {
		path[len] = '\0';	/* was the line's '\n' */
		if (*n == cap) {
			cap = cap ? 2 * cap : 1024;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[*n].hash = hex;
		v[(*n)++].path = path;
	}
	return v;
}

/* Adds `path` to the pages to reload; 0, or -1 when the change is not
 * one of pages (every page reloads then). */
static int
add_changed(const char *path, char ***v, size_t *n, int *search)
{
	if (util_has_suffix(path, ".html")) {
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[(*n)++] = xstrdup(path);
		return 0;
	}
	/* the index: the search page reloads, the search box of every
	 * other page loads the new manifest (reload.js) */
	if (strncmp(path, "search/", 7) == 0) {
		if (!*search) {
			*search = 1;
			*v = xreallocarray(*v, *n + 2, sizeof(**v));
			(*v)[(*n)++] = xstrdup("search.html");
			(*v)[(*n)++] = xstrdup("search/manifest.js");
		}
		return 0;
	}
	return -1;
}

/* The pages whose output differs between the manifests `was` and `now`
 * (both sorted by path), for srv_built; NULL when every page should
 * reload: a manifest is missing, a file that is not a page changed (a
 * style sheet, an image), or too many pages changed to name them. */
static char **
changed_pages(struct buf *was, struct buf *now, size_t *n)
{
	struct mline *a, *b;
	size_t na, nb, i = 0, j = 0, k;
	char **v = NULL;
	int c, all = 0, search = 0;

	*n = 0;
	if (was->len == 0 || now->len == 0)
		return NULL;
	a = mlines(was, &na);
	b = mlines(now, &nb);
	while (!all && (i < na || j < nb)) {
		c = i == na ? 1 : j == nb ? -1 : strcmp(a[i].path, b[j].path);
		if (c < 0)
			all = add_changed(a[i++].path, &v, n, &search) == -1;
		else if (c > 0)
			all = add_changed(b[j++].path, &v, n, &search) == -1;
		else if (memcmp(a[i].hash, b[j].hash, 64) != 0)
			all = add_changed(a[i++].path, &v, n, &search) == -1,
			    j++;
		else
			i++, j++;
		all = all || *n > MAX_RELOAD;
	}
	free(a);
	free(b);
	if (all) {
		for (k = 0; k < *n; k++)
			free(v[k]);
		free(v);
		*n = 0;
		return NULL;
	}
	/* nothing changed: an empty list (no page reloads) */
	return v ? v : xcalloc(1, sizeof(*v));
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Builds once and tells the server which pages changed; `why` names the
 * change (NULL for the first build).  The diagnostics go to stderr and,
 * on failure, to every open page. */
static void
rebuild(const struct build_opts *o, struct srv *s, const char *why)
{
	struct diag d;
	struct buf was = BUF_INIT, now = BUF_INIT;
	FILE *mf;
	char *text = NULL, *mpath, **pages = NULL;
	size_t len = 0, npages = 0;
	long long t0 = now_ms();
	int rc;

	/* what is served now, to name the pages that change */
	mpath = util_path_join(o->out_dir, ".tebiki-manifest");
	if (why != NULL && util_read_file(mpath, &was) == -1)
		buf_reset(&was);
	diag_init(&d);
	rc = build_run(o, &d);
	if (rc == CMD_OK && diag_errors(&d) > 0)
		rc = CMD_CONTENT;
	if ((mf = open_memstream(&text, &len)) == NULL)
		fatal("cannot open a memory stream: %s", strerror(errno));
	diag_flush(&d, mf, DIAG_TEXT);
	fclose(mf);
	diag_release(&d);
	fputs(text, stderr);
	if (rc == CMD_OK) {
		if (was.len > 0 && util_read_file(mpath, &now) == 0)
			pages = changed_pages(&was, &now, &npages);
		srv_built(s, (const char *const *)pages, npages, 0);
		fprintf(stderr, "tebiki: %s%s%s (%lld ms)\n",
		    why ? "rebuilt after a change to '" : "built the site",
		    why ? why : "", why ? "'" : "", now_ms() - t0);
		free_list(pages, npages);
	} else {
		srv_failed(s, len > 0 ? text : "the build failed\n");
		fprintf(stderr, "tebiki: the build failed; still serving the "
		    "last good build\n");
	}
	free(text);
	free(mpath);
	buf_release(&was);
	buf_release(&now);
#ifdef __GLIBC__
	/* the build freed everything it had; the pages go back to the
	 * system while the server waits for the next change (at 10,000
	 * pages the idle server held ~225 MB, now ~9 MB; the previewer
	 * keeps what it needs in its own process) */
	malloc_trim(0);
#endif
}

/* Shows the pages whose sources changed right away, rendered by the
 * previewer of the last build (preview.h), before the whole build that
 * follows.  A change the previewer cannot show (a new file, front matter,
 * a template) ends it until the next build. */
static void
preview(struct srv *s, struct watch *w, struct prv **pv)
{
	char **paths, **shown = NULL, *out, *why, hex[65];
	size_t n = watch_take(w, &paths), i, nshown = 0;
	long long t0 = now_ms();
	int rc;

	for (i = 0; i < n && *pv != NULL; i++) {
		/* a template, a filter, site.yaml...: the previewer renders
		 * with the old ones */
		if (strncmp(paths[i], "content/", 8) != 0) {
			prv_free(*pv);
			*pv = NULL;
			break;
		}
		/* a picture, or an editor's temporary file: no page shows
		 * its bytes */
		if (!util_has_suffix(paths[i], ".md"))
			continue;
		rc = prv_request(*pv, paths[i], &out, hex, &why);
		if (rc == 1) {
			shown = xreallocarray(shown, nshown + 1,
			    sizeof(*shown));
			shown[nshown++] = out;
		} else if (rc == -1) {
			fprintf(stderr, "tebiki: no preview of '%s': %s\n",
			    paths[i], why);
			free(why);
			prv_free(*pv);
			*pv = NULL;
		}
	}
	if (nshown > 0) {
		srv_built(s, (const char *const *)shown, nshown, 1);
		fprintf(stderr, "tebiki: previewed '%s'%s (%lld ms); the rest "
		    "of the site follows\n", shown[0],
		    nshown > 1 ? " and others" : "", now_ms() - t0);
	}
	free_list(shown, nshown);
	free_list(paths, n);
}

/* Runs the watch-and-rebuild loop until a signal arrives; 0, or -1
 * after reporting. */
static int
loop(const struct build_opts *o, struct srv *s, struct watch *w, int sfd,
    struct prv **pv)
{
	struct pollfd pf[2];
	struct signalfd_siginfo si;
	long long due = -1, first = -1, pdue = -1, next;
	char *what = NULL, **paths;
	size_t np;
	int n, timeout, rc = -1, debounce = DEBOUNCE_MS;

	/* test hook: a longer wait before the build, to look at a preview */
	if (getenv("TEBIKI_SERVE_DEBOUNCE_MS") != NULL)
		debounce = atoi(getenv("TEBIKI_SERVE_DEBOUNCE_MS"));

	pf[0].fd = sfd;
	pf[0].events = POLLIN;
	pf[1].fd = watch_fd(w);
	pf[1].events = POLLIN;
	for (;;) {
		timeout = -1;
		next = pdue >= 0 && (due < 0 || pdue < due) ? pdue : due;
		if (next >= 0) {
			long long left = next - now_ms();

			timeout = left > 0 ? (int)left : 0;
		}
		n = poll(pf, 2, timeout);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "tebiki: poll: %s\n", strerror(errno));
			goto out;
		}
		if (pf[0].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				fprintf(stderr, "\ntebiki: %s, stopping\n",
				    si.ssi_signo == SIGINT ? "interrupted" :
				    "terminated");
			rc = 0;
			goto out;
		}
		if (pf[1].revents & POLLIN) {
			int ch = watch_read(w, &what);

			if (ch == -1)
				goto out;
			if (ch == 1) {
				long long t = now_ms();

				if (due < 0)
					first = t;
				due = t + debounce;
				if (due > first + DEBOUNCE_MAX_MS &&
				    debounce < DEBOUNCE_MAX_MS)
					due = first + DEBOUNCE_MAX_MS;
				if (*pv != NULL)
					pdue = t + PREVIEW_MS;
			}
			continue;
		}
		if (pdue >= 0 && now_ms() >= pdue && (due < 0 || pdue <= due)) {
			pdue = -1;
			preview(s, w, pv);
			continue;
		}
		if (due >= 0 && now_ms() >= due) {
			due = -1;
			pdue = -1;
			/* the build sees every change noted so far */
			np = watch_take(w, &paths);
			free_list(paths, np);
			rebuild(o, s, what ? what : "?");
			free(what);
			what = NULL;
		}
	}
out:
	free(what);
	return rc;
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "today", required_argument, NULL, 'T' },
		{ "no-preview", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct build_opts o;
	struct srv_opts so;
	struct diag d;
	struct srv *s = NULL;
	struct watch *w = NULL;
	struct prv *pv = NULL;
	sigset_t mask;
	const char *tmp;
	char *priv = NULL, *out = NULL, *end;
	long port = DEFAULT_PORT;
	int c, sfd = -1, rc = CMD_USAGE, nopreview = 0;

	memset(&o, 0, sizeof(o));
	memset(&so, 0, sizeof(so));
	o.src_dir = ".";
	o.write = 1;
	o.quiet = 1;
	o.seed = 1;

	so.bind = "127.0.0.1";
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:p:b:j:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 's':
			o.src_dir = optarg;
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end || port < 0 ||
			    port > 65535) {
				fprintf(stderr, "tebiki: --port needs a number "
				    "from 0 to 65535, not '%s'\n", optarg);
				return CMD_USAGE;
			}
			break;
		case 'b':
			so.bind = optarg;
			break;
		case 'j':
			if (cmd_opt_jobs(optarg, &o.jobs) == -1)
				return CMD_USAGE;
			break;
		case 'T':
			if (cmd_opt_today(optarg, &o.today_y, &o.today_m,
			    &o.today_d) == -1)
				return CMD_USAGE;
			break;
		case 'N':
			nopreview = 1;
			break;
		case 'h':
			fputs(serve_usage, stdout);
			return CMD_OK;
		default:
			fputs(serve_usage, stderr);
			return CMD_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tebiki: unexpected argument '%s'\n",
		    argv[optind]);
		fputs(serve_usage, stderr);
		return CMD_USAGE;
	}
	/* before anything is served: a directory that is no site would
	 * give a server answering every request with the build's error */
	diag_init(&d);
	rc = site_dir_check(o.src_dir, &d) == -1 ? CMD_USAGE : CMD_OK;
	diag_flush(&d, stderr, DIAG_TEXT);
	diag_release(&d);
	if (rc != CMD_OK)
		return rc;
	rc = CMD_USAGE;
	so.port = (int)port;
	/* each build leaves a previewer of itself here (preview.h) */
	if (!nopreview)
		o.preview = &pv;
	/* for the test suite: a shorter keepalive interval */
	if ((tmp = getenv("TEBIKI_SERVE_KEEPALIVE")) != NULL)
		so.keepalive = atoi(tmp);

	/* signals arrive through the descriptor; every thread started
	 * from here on inherits the mask */
	/* a shell starting us in the background may have left SIGINT
	 * ignored, which would keep it from ever reaching the descriptor */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1) {
		fprintf(stderr, "tebiki: cannot set up signals: %s\n",
		    strerror(errno));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	tmp = getenv("TMPDIR");
	priv = xasprintf("%s/tebiki-serve.XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(priv) == NULL) {
		fprintf(stderr, "tebiki: cannot create a directory like '%s': "
		    "%s\n", priv, strerror(errno));
		free(priv);
		priv = NULL;
		goto out;
	}
	out = util_path_join(priv, "site");
	o.out_dir = out;
	so.root = out;
	if ((s = srv_start(&so)) == NULL)
		goto out;
	if ((w = watch_new(o.src_dir)) == NULL)
		goto out;
	fprintf(stderr, "tebiki: building '%s' into '%s'\n", o.src_dir,
	    priv);
	rebuild(&o, s, NULL);
	fprintf(stderr, "tebiki: serving http://%s%s%s:%d/ (watching %d "
	    "directories; Ctrl-C stops)\n",
	    strchr(so.bind, ':') ? "[" : "", so.bind,
	    strchr(so.bind, ':') ? "]" : "", srv_port(s), watch_count(w));
	if (loop(&o, s, w, sfd, &pv) == 0)
		rc = CMD_OK;
out:
	prv_free(pv);
	srv_stop(s);
	watch_free(w);
	if (priv != NULL && util_rmtree(priv) == -1)
		fprintf(stderr, "tebiki: cannot remove '%s': %s\n", priv,
		    strerror(errno));
	free(priv);
	free(out);
	if (sfd != -1)
		close(sfd);
	return rc;
}

/*
 * preview: the previewer of `tebiki serve` (see preview.h).
 */
#define _GNU_SOURCE		/* pipe2, close_range */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "build.h"
#include "ledger.h"
#include "preview.h"
#include "sha256.h"
#include "util.h"

/* A previewer that has not answered within this long is given up. */
#define ANSWER_MS	60000

struct prv {
	pid_t		 pid;
	int		 req;		/* requests go here */
	int		 ans;		/* answers come from here */
	struct buf	 in;		/* answer bytes not yet taken */
};

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Takes one line (without its '\n') from `in`, reading fd while there is
 * none; NULL at the end of the stream, on an error, or after `ms`
 * milliseconds (-1: no limit).  Caller frees. */
static char *
read_line(int fd, struct buf *in, int ms)
{
	char chunk[4096], *nl, *line;
	struct pollfd pf;
	ssize_t n;
	size_t len;

	while (in->len == 0 || (nl = memchr(in->ptr, '\n', in->len)) == NULL) {
		pf.fd = fd;
		pf.events = POLLIN;
		n = poll(&pf, 1, ms);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		buf_put(in, chunk, (size_t)n);
	}
	len = (size_t)(nl - in->ptr);
	line = xstrndup(in->ptr, len);
	memmove(in->ptr, nl + 1, in->len - len - 1);
	in->len -= len + 1;
	in->ptr[in->len] = '\0';
	return line;
}

/* Makes the output's manifest say the new hash of `rel`: the build after
 * next overwrites this directory, trusting the manifest for what each
 * file holds.  A manifest that cannot be made true is removed (every file
 * is written again then). */
static void
set_manifest(const char *dir, const char *rel, const char hex[65])
{
	char *path = util_path_join(dir, ".tebiki-manifest");
	struct buf m = BUF_INIT;
	size_t rl = strlen(rel), len;
	char *pos, *old, *p;
	int done = 0;

	if (util_read_file(path, &m) == 0) {
		pos = m.ptr;
		while (ldg_next_line(&pos, m.ptr + m.len, &old, &p, &len))
			if (len == rl && memcmp(p, rel, rl) == 0) {
				memcpy(old, hex, 64);
				done = util_replace_file(path, m.ptr, m.len) == 0;
				break;
			}
	}
	if (!done)
		(void)unlink(path);
	buf_release(&m);
	free(path);
}

/* The previewer: answers requests until the request pipe closes. */
static void __attribute__((noreturn))
serve_requests(struct build *b, int req, int ans)
{
	struct buf in = BUF_INIT, out = BUF_INIT, msg = BUF_INIT;
	const char *rel = NULL, *why = NULL;
	char hex[65], *src, *path;
	int rc;

	/* the filters' states for collect, before the first request */
	build_preview_prepare(b);
	while ((src = read_line(req, &in, -1)) != NULL) {
		buf_reset(&out);
		buf_reset(&msg);
		rc = build_preview(b, src, &out, &rel, &why);
		if (rc == 1) {
			sha256_hex(out.ptr, out.len, hex);
			path = util_path_join(b->out_dir, rel);
			/* through a temporary file: the server never sends
			 * half of it */
			if (util_replace_file(path, out.ptr, out.len) == 0) {
				set_manifest(b->out_dir, rel, hex);
				buf_printf(&msg, "ok %s %s\n", rel, hex);
			} else {
				buf_printf(&msg, "no cannot write '%s': %s\n",
				    path, strerror(errno));
			}
			free(path);
		} else if (rc == 0) {
			buf_puts(&msg, "same\n");
		} else {
			buf_printf(&msg, "no %s\n", why ? why : "?");
		}
		free(src);
		if (write_all(ans, msg.ptr, msg.len) == -1)
			break;
	}
	/* no exit handlers, no leak report: this is a copy of a build half
	 * way through, which its own process frees */
	_exit(0);
}

/* See preview.h. */
struct prv *
prv_fork(struct build *b)
{
	int rq[2], an[2];
	pid_t parent = getpid(), pid;
	struct prv *v;

	if (pipe2(rq, O_CLOEXEC) == -1)
		return NULL;
	if (pipe2(an, O_CLOEXEC) == -1) {
		close(rq[0]);
		close(rq[1]);
		return NULL;
	}
	pid = fork();
	if (pid == -1) {
		close(rq[0]);
		close(rq[1]);
		close(an[0]);
		close(an[1]);
		return NULL;
	}
	if (pid == 0) {
		int lo = rq[0] < an[1] ? rq[0] : an[1];
		int hi = rq[0] < an[1] ? an[1] : rq[0];

		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		/* nothing of the server's (its socket, the watch, the lock
		 * of the work directory) stays open here */
		if (lo > 3)
			(void)close_range(3, (unsigned)lo - 1, 0);
		if (hi > lo + 1)
			(void)close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
		(void)close_range((unsigned)hi + 1, ~0U, 0);
		serve_requests(b, rq[0], an[1]);
	}
	close(rq[0]);
	close(an[1]);
	v = xcalloc(1, sizeof(*v));
	v->pid = pid;
	v->req = rq[1];
	v->ans = an[0];
	buf_init(&v->in);
	return v;
}

/* See preview.h. */
int
prv_request(struct prv *v, const char *src, char **out, char hex[65],
    char **why)
{
	char *line, *sp;
	int rc = -1;

	*out = NULL;
	*why = NULL;
	if (strchr(src, '\n') != NULL) {
		*why = xstrdup("a file name with a line break");
		return -1;
	}
	line = xasprintf("%s\n", src);
	if (write_all(v->req, line, strlen(line)) == -1) {
		free(line);
		*why = xstrdup("the previewer has gone");
		return -1;
	}
	free(line);
	if ((line = read_line(v->ans, &v->in, ANSWER_MS)) == NULL) {
		*why = xstrdup("the previewer did not answer");
		return -1;
	}
	if (strcmp(line, "same") == 0) {
		rc = 0;
	} else if (strncmp(line, "ok ", 3) == 0 &&
	    (sp = strrchr(line, ' ')) != NULL && sp > line + 3 &&
	    strlen(sp + 1) == 64) {
		memcpy(hex, sp + 1, 65);
		*out = xstrndup(line + 3, (size_t)(sp - line - 3));
		rc = 1;
	} else {
		*why = xstrdup(strncmp(line, "no ", 3) == 0 ? line + 3 : line);
	}
	free(line);
	return rc;
}

/* See preview.h. */
void
prv_free(struct prv *v)
{
	if (v == NULL)
		return;
	close(v->req);
	close(v->ans);
	(void)kill(v->pid, SIGKILL);
	while (waitpid(v->pid, NULL, 0) == -1 && errno == EINTR)
		;
	buf_release(&v->in);
	free(v);
}

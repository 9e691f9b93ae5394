/*
 * Unit tests for spill.h: texts written from several threads at once come
 * back exactly, in any order; a read past what was written, or after the
 * file was emptied, fails and says so once; no file is left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spill.h"
#include "util.h"

#include "harness.h"

#define NTHREADS	4
#define PER_THREAD	500

struct rec {
	uint64_t	 off;
	size_t		 len;
	int		 rc;
};

struct job {
	struct spill	*s;
	int		 t;
	struct rec	 r[PER_THREAD];
};

/* The text of record i of thread t: its length and bytes depend on both,
 * some are empty, some hold NUL-free multibyte text. */
static size_t
make_text(int t, int i, char *out, size_t cap)
{
	size_t n = (size_t)((t * 7919 + i * 104729) % 3000), k;
	const char *ja = "情報セキュリティ";

	if (n >= cap)
		n = cap - 1;
	for (k = 0; k < n; k++)
		out[k] = (i % 3 == 0) ? ja[k % strlen(ja)] :
		    (char)('a' + (t + i + (int)k) % 26);
	/* a multibyte character cut at the end is fine: bytes are bytes */
	out[n] = '\0';
	return n;
}

static void *
writer(void *arg)
{
	struct job *j = arg;
	char buf[4096];
	int i;
	size_t n;

	for (i = 0; i < PER_THREAD; i++) {
		n = make_text(j->t, i, buf, sizeof(buf));
		j->r[i].len = n;
		j->r[i].rc = spill_put(j->s, buf, n, &j->r[i].off);
	}
	return NULL;
}

static int
dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

int
main(void)
{
	char dir[] = "/tmp/tebiki-spill.XXXXXX", buf[4096], *got;
	struct job jobs[NTHREADS];
	pthread_t th[NTHREADS];
	struct spill *s;
	uint64_t total = 0, off;
	int t, i, ok = 1, okput = 1;
	size_t n;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	OK(spill_open("/nonexistent/dir") == NULL,
	    "no spill in a directory that is not there");
	s = spill_open(dir);
	OK(s != NULL, "spill opened in %s", dir);
	if (s == NULL)
		return DONE();
	for (t = 0; t < NTHREADS; t++) {
		jobs[t].s = s;
		jobs[t].t = t;
		pthread_create(&th[t], NULL, writer, &jobs[t]);
	}
	for (t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	for (t = 0; t < NTHREADS; t++)
		for (i = 0; i < PER_THREAD; i++) {
			okput = okput && jobs[t].r[i].rc == 0;
			total += jobs[t].r[i].len;
		}
	OK(okput, "every put succeeded");
	INT_EQ(spill_size(s), total, "size is the sum of the texts");
	/* read back in reverse order of writing */
	for (t = NTHREADS - 1; t >= 0 && ok; t--)
		for (i = PER_THREAD - 1; i >= 0 && ok; i--) {
			n = make_text(t, i, buf, sizeof(buf));
			got = spill_get(s, jobs[t].r[i].off, jobs[t].r[i].len);
			ok = got && strlen(got) == n && memcmp(got, buf, n) == 0;
			if (!ok)
				fprintf(stderr, "thread %d text %d differs\n",
				    t, i);
			free(got);
		}
	OK(ok, "%d texts from %d threads read back exactly",
	    NTHREADS * PER_THREAD, NTHREADS);
	INT_EQ(dir_entries(dir), 0, "the scratch file has no name");
	errno = 0;
	got = spill_get(s, total, 10);
	OK(got == NULL && errno == EIO, "a read past the end fails with EIO");
	free(got);
	OK(spill_put(s, "after", 5, &off) == 0 && off == total,
	    "a later put goes at the end");
	spill_cut(s);
	got = spill_get(s, jobs[0].r[1].off, jobs[0].r[1].len);
	OK(got == NULL, "nothing can be read back after spill_cut");
	free(got);
	OK(spill_first_failure(s) == 1, "first failure reported");
	OK(spill_first_failure(s) == 0, "second failure not reported");
	spill_close(s);
	spill_close(NULL);
	rmdir(dir);
	return DONE();
}

/*
 * ledger: see ledger.h.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "hmap.h"
#include "ledger.h"
#include "util.h"

struct entry {
	char	*rel;
	char	 hex[65];
};

struct ledger {
	char		*dir;
	struct hmap	 old;		/* rel -> index in oldhex */
	char		(*oldhex)[65];
	pthread_mutex_t	 lock;
	struct hmap	 now;		/* rel -> index in ents */
	struct entry	*ents;
	size_t		 n, cap;
};

static int
is_hex64(const char *s)
{
	int i;

	for (i = 0; i < 64; i++)
		if (util_hexval((unsigned char)s[i]) < 0)
			return 0;
	return 1;
}

/* See ledger.h. */
int
ldg_next_line(char **pos, char *end, char **hex, char **path, size_t *plen)
{
	char *line, *nl;

	while ((line = *pos) < end &&
	    (nl = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		*pos = nl + 1;
		if (nl - line < 67 || line[64] != ' ' || line[65] != ' ' ||
		    !is_hex64(line))
			continue;
		*hex = line;
		*path = line + 66;
		*plen = (size_t)(nl - line - 66);
		return 1;
	}
	*pos = end;
	return 0;
}

/* See ledger.h. */
struct ledger *
ldg_open(const char *dir)
{
	struct ledger *l = xcalloc(1, sizeof(*l));
	struct buf m = BUF_INIT;
	char *path, *pos, *hex, *rel;
	size_t n = 0, rl;

	l->dir = xstrdup(dir);
	hm_init(&l->old);
	hm_init(&l->now);
	pthread_mutex_init(&l->lock, NULL);
	path = util_path_join(dir, ".tebiki-manifest");
	if (util_read_file(path, &m) == 0) {
		unlink(path);
		pos = m.ptr;
		while (ldg_next_line(&pos, m.ptr + m.len, &hex, &rel, &rl)) {
			rel[rl] = '\0';	/* was the line's '\n' */
			if ((n & (n - 1)) == 0)	/* 0, 1, 2, 4 ...: doubling */
				l->oldhex = xreallocarray(l->oldhex,
				    n ? n * 2 : 1, sizeof(*l->oldhex));
			memcpy(l->oldhex[n], hex, 64);
			l->oldhex[n][64] = '\0';
			hm_put(&l->old, rel, n);
			n++;
		}
	}
	buf_release(&m);
	free(path);
	return l;
}

/* See ledger.h. */
void
ldg_free(struct ledger *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free(l->ents[i].rel);
	free(l->ents);
	free(l->oldhex);
	hm_release(&l->old);
	hm_release(&l->now);
	pthread_mutex_destroy(&l->lock);
	free(l->dir);
	free(l);
}

/* Returns 1 when rel is new to this build. */
static int
record(struct ledger *l, const char *rel, const char hex[65])
{
	size_t i;
	int fresh = 0;

	pthread_mutex_lock(&l->lock);
	if (hm_get(&l->now, rel, &i)) {
		memcpy(l->ents[i].hex, hex, 65);
	} else {
		fresh = 1;
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 256;
			l->ents = xreallocarray(l->ents, l->cap,
			    sizeof(*l->ents));
		}
		l->ents[l->n].rel = xstrdup(rel);
		memcpy(l->ents[l->n].hex, hex, 65);
		hm_put(&l->now, rel, l->n);
		l->n++;
	}
	pthread_mutex_unlock(&l->lock);
	return fresh;
}

/* See ledger.h. */
int
ldg_put(struct ledger *l, const char *rel, const char hex[65], size_t len)
{
	struct stat st;
	size_t i;
	char *path;
	int same = 0;

	/* a file written twice in one build is written (the first write
	 * may have changed it); the old map is only read after ldg_open */
	if (record(l, rel, hex) && hm_get(&l->old, rel, &i) && memcmp(l->oldhex[i], hex, 64) == 0) {
		path = util_path_join(l->dir, rel);
		same = lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (size_t)st.st_size == len;
		free(path);
	}
	return same;
}

static int
ent_cmp(const void *a, const void *b)
{
	return strcmp((*(struct entry *const *)a)->rel,
	    (*(struct entry *const *)b)->rel);
}

/* See ledger.h. */
void
ldg_manifest(const struct ledger *l, struct buf *out)
{
	struct entry **v = xcalloc(l->n + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < l->n; i++)
		v[i] = &l->ents[i];
	if (l->n > 1)
		qsort(v, l->n, sizeof(*v), ent_cmp);
	for (i = 0; i < l->n; i++)
		if (strcmp(v[i]->rel, ".tebiki-manifest") != 0)
			buf_printf(out, "%s  %s\n", v[i]->hex, v[i]->rel);
	free(v);
}

static void
sweep(const struct ledger *l, const char *abs, const char *rel)
{
	DIR *dp = opendir(abs);
	struct dirent *de;
	struct stat st;
	char *p, *r;
	size_t dummy;
	int kind;

	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = util_path_join(abs, de->d_name);
		r = *rel ? util_path_join(rel, de->d_name) :
		    xstrdup(de->d_name);
		/* the entry's type from readdir where the file system gives
		 * it (a big site's 10,000 files need no lstat then) */
		if (de->d_type == DT_UNKNOWN && lstat(p, &st) == 0)
			kind = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
		else
			kind = de->d_type;
		if (kind == DT_DIR) {
			sweep(l, p, r);
			rmdir(p);	/* only when empty */
		} else if (kind != DT_UNKNOWN && !hm_get(&l->now, r, &dummy)) {
			unlink(p);
		}
		free(p);
		free(r);
	}
	closedir(dp);
}

/* See ledger.h. */
void
ldg_sweep(const struct ledger *l)
{
	sweep(l, l->dir, "");
}

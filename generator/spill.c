/*
 * spill: an anonymous scratch file (see spill.h).
 */
#define _GNU_SOURCE		/* O_TMPFILE (Linux) */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "spill.h"
#include "util.h"

struct spill {
	int		 fd;
	uint64_t	 end;		/* bytes reserved so far (atomic) */
	int		 failed;	/* spill_first_failure (atomic) */
};

/* See spill.h. */
struct spill *
spill_open(const char *dir)
{
	struct spill *s;
	int fd;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#else
	(void)dir;
	fd = -1;
	errno = EOPNOTSUPP;
#endif
	if (fd == -1)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->fd = fd;
	return s;
}

/* See spill.h. */
int
spill_put(struct spill *s, const char *p, size_t n, uint64_t *off)
{
	uint64_t at = __atomic_fetch_add(&s->end, (uint64_t)n,
	    __ATOMIC_RELAXED);
	size_t done = 0;
	ssize_t w;

	*off = at;
	while (done < n) {
		w = pwrite(s->fd, p + done, n - done, (off_t)(at + done));
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}

/* See spill.h. */
char *
spill_get(struct spill *s, uint64_t off, size_t n)
{
	char *p = xmalloc(n + 1);
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = pread(s->fd, p + done, n - done, (off_t)(off + done));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			free(p);
			return NULL;
		}
		done += (size_t)r;
	}
	p[n] = '\0';
	return p;
}

/* See spill.h. */
uint64_t
spill_size(const struct spill *s)
{
	return __atomic_load_n(&s->end, __ATOMIC_RELAXED);
}

/* See spill.h. */
int
spill_first_failure(struct spill *s)
{
	return __atomic_exchange_n(&s->failed, 1, __ATOMIC_RELAXED) == 0;
}

/* See spill.h. */
void
spill_cut(struct spill *s)
{
	(void)ftruncate(s->fd, 0);
}

/* See spill.h. */
void
spill_close(struct spill *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	free(s);
}

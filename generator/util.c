/*
 * util: allocation wrappers, file and path helpers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "sha256.h"
#include "util.h"

void
fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("tebiki: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL)
		fatal("out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		fatal("out of memory");
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t sz)
{
	if (sz && n > SIZE_MAX / sz)
		fatal("out of memory");
	return xrealloc(p, n * sz);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b);
}

/* Closes fd keeping the errno of what failed before; -1. */
static int
close_failed(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
	return -1;
}

int
util_read_file(const char *path, struct buf *out)
{
	char tmp[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return close_failed(fd);
		}
		buf_put(out, tmp, (size_t)n);
	}
	close(fd);
	return 0;
}

/* Creates the parent directories of `path`. */
static int
mkparent(const char *path)
{
	char *dir, *slash;
	int rc = 0;

	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		rc = util_mkdir_p(dir);
	}
	free(dir);
	return rc;
}

int
util_dirs_writable(const char *dir)
{
	struct stat st;
	struct dirent *de;
	DIR *dp;
	int rc = 0;

	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
		return -1;
	if ((st.st_mode & (S_IWUSR | S_IXUSR | S_IRUSR)) !=
	    (S_IWUSR | S_IXUSR | S_IRUSR) &&
	    chmod(dir, (st.st_mode & 07777) | S_IRWXU) == -1)
		return -1;
	if ((dp = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL) {
		char *sub;
		int isdir;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		sub = util_path_join(dir, de->d_name);
		isdir = de->d_type == DT_DIR ||
		    (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode));
		if (isdir && util_dirs_writable(sub) == -1)
			rc = -1;
		free(sub);
	}
	closedir(dp);
	return rc;
}

/* Writes p[0..len) to fd and closes it; 0, or -1 with errno set. */
static int
write_close(int fd, const void *p, size_t len)
{
	const char *c = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, c, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return close_failed(fd);
		}
		c += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* Puts a new file at `path` in place of the one there; the fd, or -1. */
static int
create_anew(const char *path)
{
	if (unlink(path) == -1)
		return -1;
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
}

int
util_write_file(const char *path, const void *p, size_t len)
{
	struct stat st;
	int fd;

	/* the directory is there nearly always: make it only when the
	 * open says it is not (a mkdir per path component for each file
	 * was 35,000 system calls for a new 10,000-page output) */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1 && errno == ENOENT) {
		if (mkparent(path) == -1)
			return -1;
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0644);
	}
	if (fd == -1)
		return -1;
	/* a file with another name (a build's work directory starts as
	 * hard links to the output) is replaced, never written into */
	if (fstat(fd, &st) == -1)
		return close_failed(fd);
	if (st.st_nlink > 1) {
		close(fd);
		if ((fd = create_anew(path)) == -1)
			return -1;
	} else if (st.st_size > 0 && ftruncate(fd, 0) == -1) {
		return close_failed(fd);
	}
	return write_close(fd, p, len);
}

int
util_replace_file(const char *path, const void *p, size_t len)
{
	char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	int rc = util_write_file(tmp, p, len), err;

	if (rc == 0 && rename(tmp, path) == -1)
		rc = -1;
	if (rc == -1) {
		err = errno;
		(void)unlink(tmp);
		errno = err;
	}
	free(tmp);
	return rc;
}

int
util_mkdir_p(const char *path)
{
	char *p, *s;
	int rc = 0;

	p = xstrdup(path);
	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0755) == -1 && errno != EEXIST) {
				rc = -1;
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	if (rc == 0 && !util_is_dir(p)) {
		errno = ENOTDIR;
		rc = -1;
	}
	free(p);
	return rc;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int
util_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

int
util_copy_file(const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	int rc;

	if (util_read_file(from, &b) == -1) {
		buf_release(&b);
		return -1;
	}
	rc = util_write_file(to, b.ptr, b.len);
	buf_release(&b);
	return rc;
}

int
util_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
util_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *
util_path_join(const char *a, const char *b)
{
	size_t n;

	if (a == NULL || *a == '\0' || strcmp(a, ".") == 0)
		return xstrdup(b);
	n = strlen(a);
	if (a[n - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

char *
util_abspath(const char *path)
{
	char resolved[PATH_MAX], *head, *tail, *slash, *r;
	struct buf b = BUF_INIT;

	if (realpath(path, resolved) != NULL)
		return xstrdup(resolved);
	/* Resolve the longest existing prefix, append the rest. */
	head = xstrdup(path);
	tail = NULL;
	for (;;) {
		slash = strrchr(head, '/');
		if (slash == NULL) {
			if (getcwd(resolved, sizeof(resolved)) == NULL) {
				free(head);
				free(tail);
				return NULL;
			}
			buf_puts(&b, resolved);
			buf_putc(&b, '/');
			buf_puts(&b, head);
			break;
		}
		if (slash == head) {
			buf_puts(&b, head);
			break;
		}
		*slash = '\0';
		if (realpath(head, resolved) != NULL) {
			buf_puts(&b, resolved);
			buf_putc(&b, '/');
			buf_puts(&b, slash + 1);
			break;
		}
		r = tail ? xasprintf("%s/%s", slash + 1, tail)
		    : xstrdup(slash + 1);
		free(tail);
		tail = r;
	}
	if (tail) {
		buf_putc(&b, '/');
		buf_puts(&b, tail);
	}
	free(head);
	free(tail);
	return buf_detach(&b);
}

int
util_path_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	if (strcmp(outer, "/") == 0)
		return 1;
	return strncmp(inner, outer, n) == 0 &&
	    (inner[n] == '\0' || inner[n] == '/');
}

char *
util_root_prefix(const char *rel)
{
	struct buf b = BUF_INIT;
	const char *s;

	for (s = rel; *s; s++)
		if (*s == '/')
			buf_puts(&b, "../");
	return buf_detach(&b);
}

int
util_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (int)n;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
util_sort_strings(char **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmpstr);
}

int
util_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void
list_rec(const char *dir, const char *rel, char ***out, size_t *n)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	struct stat st;
	char *p, *r;

	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = util_path_join(dir, de->d_name);
		r = *rel ? xasprintf("%s/%s", rel, de->d_name) :
		    xstrdup(de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			list_rec(p, r, out, n);
			free(r);
		} else if (S_ISREG(st.st_mode)) {
			if ((*n & (*n - 1)) == 0)	/* doubling */
				*out = xreallocarray(*out, *n ? *n * 2 : 1,
				    sizeof(**out));
			(*out)[(*n)++] = r;
		} else {
			free(r);
		}
		free(p);
	}
	closedir(dp);
}

size_t
util_list_files(const char *dir, char ***out)
{
	size_t n = 0;

	*out = NULL;
	list_rec(dir, "", out, &n);
	util_sort_strings(*out, n);
	return n;
}

int
util_sha256_file(const char *path, char hex[65])
{
	struct buf b = BUF_INIT;

	if (util_read_file(path, &b) == -1) {
		buf_release(&b);
		return -1;
	}
	sha256_hex(b.ptr, b.len, hex);
	buf_release(&b);
	return 0;
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX escapes, and "&amp;" when amp is set, of s[0..n); caller frees. */
static char *
decode(const char *s, size_t n, int amp)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && util_hexval(s[i + 1]) >= 0 &&
		    util_hexval(s[i + 2]) >= 0) {
			buf_putc(&b, util_hexval(s[i + 1]) * 16 +
			    util_hexval(s[i + 2]));
			i += 2;
		} else if (amp && n - i >= 5 &&
		    strncmp(s + i, "&amp;", 5) == 0) {
			buf_putc(&b, '&');
			i += 4;
		} else {
			buf_putc(&b, s[i]);
		}
	}
	return buf_detach(&b);
}

char *
util_pct_decode(const char *s, size_t n)
{
	return decode(s, n, 0);
}

char *
util_href_decode(const char *s, size_t n)
{
	return decode(s, n, 1);
}

char *
util_norm_path(const char *dir, const char *path, size_t len)
{
	struct buf b = BUF_INIT;
	char *joined = (*dir && !(len && *path == '/')) ?
	    xasprintf("%s/%.*s", dir, (int)len, path) : xstrndup(path, len);
	char *save = NULL, *tok;
	size_t *ends = NULL, n = 0;

	for (tok = strtok_r(joined, "/", &save); tok;
	    tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0) {
			if (n == 0) {
				free(ends);
				free(joined);
				buf_release(&b);
				return NULL;
			}
			buf_truncate(&b, --n ? ends[n - 1] : 0);
			continue;
		}
		if (n)
			buf_putc(&b, '/');
		buf_puts(&b, tok);
		ends = xreallocarray(ends, n + 1, sizeof(*ends));
		ends[n++] = b.len;
	}
	free(ends);
	free(joined);
	return buf_detach(&b);
}

int
util_url_is_external(const char *u)
{
	const char *p = u;

	if (strncmp(u, "//", 2) == 0)
		return 1;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	for (p++; *p; p++) {
		if (*p == ':')
			return 1;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' ||
		    *p == '.'))
			return 0;
	}
	return 0;
}

size_t
util_utf8_seq(const unsigned char *p, size_t n)
{
	size_t need, k;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 1;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 2;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 3;
	else
		return 0;
	if (need >= n)
		return 0;
	for (k = 1; k <= need; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return need + 1;
}

size_t
util_utf8_prefix(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	uint64_t w;

	while (i < n) {
		if (p[i] < 0x80) {
			while (i + 8 <= n) {
				memcpy(&w, p + i, 8);
				if (w & 0x8080808080808080ULL)
					break;
				i += 8;
			}
			if (i < n && p[i] < 0x80)
				i++;
			continue;
		}
		if (i + 2 < n && ((p[i] >= 0xe1 && p[i] <= 0xec) ||
		    p[i] == 0xee || p[i] == 0xef) &&
		    (p[i + 1] & 0xc0) == 0x80 && (p[i + 2] & 0xc0) == 0x80) {
			i += 3;
			continue;
		}
		if ((k = util_utf8_seq(p + i, n - i)) == 0)
			return i;
		i += k;
	}
	return n;
}

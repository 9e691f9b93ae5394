/*
 * util: allocation wrappers (OOM is fatal here and nowhere else), files,
 * paths and directories.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <sys/types.h>

struct buf;

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Prints "tebiki: msg" and exits 2: for impossible environment failures. */
void	 fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Reads a whole file into `out` (appended).  Returns 0, or -1 with errno. */
int	 util_read_file(const char *path, struct buf *out);
/* Writes `len` bytes to `path` (creating parents).  0 or -1 with errno.
 * A file that has other names (hard links) is replaced by a new one: the
 * other names keep what they held. */
int	 util_write_file(const char *path, const void *, size_t len);
/* util_write_file through a temporary file beside `path` ("<path>.<pid>
 * .tmp", this process's own) renamed over it: a reader, or another
 * process writing the same file, never sees half of it.  0 or -1 with
 * errno. */
int	 util_replace_file(const char *path, const void *, size_t len);
/* mkdir -p; 0 or -1 with errno. */
int	 util_mkdir_p(const char *path);
/* rm -rf; 0 or -1 with errno.  Does not follow symlinks. */
int	 util_rmtree(const char *path);
/* Copies a regular file (creating parents); 0 or -1 with errno. */
int	 util_copy_file(const char *from, const char *to);
int	 util_is_dir(const char *path);
/* Gives every directory under dir (and dir) that lacks it its owner's
 * write permission, so that files can be made and replaced in them (a
 * build's work directory is the previous output, which its user may
 * have made read-only); 0, or -1 with errno set. */
int	 util_dirs_writable(const char *dir);
int	 util_is_file(const char *path);
/* Returns "a/b" (caller frees); a NULL or empty `a` gives a copy of b. */
char	*util_path_join(const char *a, const char *b);
/* Canonical absolute path of an existing or not yet existing path
 * (the longest existing prefix is resolved); caller frees, NULL on error. */
char	*util_abspath(const char *path);
/* 1 when `inner` equals `outer` or lies beneath it (both absolute). */
int	 util_path_within(const char *inner, const char *outer);
/* Relative URL prefix from a file at `rel` (e.g. "a/b.html") to the root:
 * "" or "../" repeated; caller frees. */
char	*util_root_prefix(const char *rel);
/* Number of online CPUs, at least 1. */
int	 util_ncpu(void);
/* Sorts an array of C strings bytewise. */
void	 util_sort_strings(char **, size_t);
/* Lists regular files under `dir` recursively as sorted relative paths
 * (*out and each path to be freed); returns the count. */
size_t	 util_list_files(const char *dir, char ***out);
/* SHA-256 of a file as 64 hex digits in hex[65]; 0 or -1 with errno. */
int	 util_sha256_file(const char *path, char hex[65]);
/* Value of a hex digit, -1 for other characters. */
int	 util_hexval(int);
/* Decodes %XX escapes of s[0..n); caller frees. */
char	*util_pct_decode(const char *s, size_t n);
/* util_pct_decode for a URL taken from HTML: "&amp;" is '&' too; caller
 * frees. */
char	*util_href_decode(const char *s, size_t n);
/* Normalizes path[0..len) ("a/./b/../c") against directory dir ("" for
 * the root; a path starting with '/' ignores it); NULL when it leaves the
 * root.  Caller frees. */
char	*util_norm_path(const char *dir, const char *path, size_t len);
/* 1 for URLs with a scheme ("https:", "mailto:", "data:") or "//host". */
int	 util_url_is_external(const char *);
/* 1 when s ends with suffix. */
int	 util_has_suffix(const char *s, const char *suffix);
/* The length of the longest prefix of s[0..n) that is well-formed UTF-8
 * (n when all of it is): ASCII eight bytes at a time, the common
 * three-byte forms (kana, kanji) without decoding. */
size_t	 util_utf8_prefix(const char *s, size_t n);
/* The length of the well-formed UTF-8 sequence at p[0..n) (n >= 1), or 0
 * when it is not one. */
size_t	 util_utf8_seq(const unsigned char *p, size_t n);

#endif

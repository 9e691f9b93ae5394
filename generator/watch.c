/*
 * watch: inotify watches over a site's sources (see watch.h).
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "watch.h"

/* The top-level entries of a site that matter to a build. */
static const char *const tops[] = {
	"content", "layouts", "themes", "filters", "data", "catalogs",
	"assets"
};

#define DIR_MASK	(IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | \
			 IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
			 IN_DELETE_SELF | IN_MOVE_SELF)
#define MAX_DEPTH	64

struct wdir {
	int	 wd;
	char	*rel;		/* site-relative path, "" for the site itself */
};

struct watch {
	int		 fd;
	char		*dir;		/* the site directory */
	struct wdir	*dirs;
	size_t		 n, cap;
	int		 warned;	/* the watch limit was reported */
	char		**changed;	/* since watch_take, distinct */
	size_t		 nchanged;
};

/* Most paths remembered between two watch_take calls; past it, one
 * "(many files)" stands for the rest. */
#define MAX_CHANGED	64

/* The entry for `wd` or NULL. */
static struct wdir *
find(struct watch *w, int wd)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (w->dirs[i].wd == wd)
			return &w->dirs[i];
	return NULL;
}

/* The path of site-relative `rel` ("" is the site directory itself,
 * which may be "." where util_path_join would give ""). */
static char *
full_path(const struct watch *w, const char *rel)
{
	return rel[0] ? util_path_join(w->dir, rel) : xstrdup(w->dir);
}

/* Forgets the entry for `wd` (the kernel dropped the watch). */
static void
forget(struct watch *w, int wd)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (w->dirs[i].wd != wd)
			continue;
		free(w->dirs[i].rel);
		w->dirs[i] = w->dirs[--w->n];
		return;
	}
}

/* Watches one directory `rel` (site-relative); 0, or -1 after reporting
 * (a vanished directory is not an error). */
static int
add_one(struct watch *w, const char *rel)
{
	char *full = full_path(w, rel);
	struct wdir *e;
	int wd;

	wd = inotify_add_watch(w->fd, full, DIR_MASK | IN_ONLYDIR);
	if (wd == -1) {
		int rc = 0;

		if (errno == ENOSPC && !w->warned) {
			fprintf(stderr, "tebiki: cannot watch '%s': the "
			    "inotify watch limit is reached (raise "
			    "fs.inotify.max_user_watches)\n", full);
			w->warned = 1;
		} else if (errno != ENOENT && errno != ENOTDIR &&
		    errno != ENOSPC) {
			fprintf(stderr, "tebiki: cannot watch '%s': %s\n",
			    full, strerror(errno));
			rc = -1;
		}
		free(full);
		return rc;
	}
	free(full);
	if ((e = find(w, wd)) != NULL) {
		free(e->rel);
		e->rel = xstrdup(rel);
		return 0;
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 32;
		w->dirs = xreallocarray(w->dirs, w->cap, sizeof(*w->dirs));
	}
	w->dirs[w->n].wd = wd;
	w->dirs[w->n].rel = xstrdup(rel);
	w->n++;
	return 0;
}

/* Watches `rel` and every real directory beneath it; 0 or -1. */
static int
add_tree(struct watch *w, const char *rel, int depth)
{
	char *full;
	DIR *dp;
	struct dirent *de;
	struct stat st;
	int rc = 0;

	if (depth > MAX_DEPTH)
		return 0;
	if (add_one(w, rel) == -1)
		return -1;
	full = full_path(w, rel);
	if ((dp = opendir(full)) == NULL) {
		free(full);
		return 0;
	}
	while ((de = readdir(dp)) != NULL) {
		char *sub, *subfull;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sub = util_path_join(rel, de->d_name);
		subfull = util_path_join(w->dir, sub);
		if (lstat(subfull, &st) == 0 && S_ISDIR(st.st_mode) &&
		    add_tree(w, sub, depth + 1) == -1)
			rc = -1;
		free(sub);
		free(subfull);
	}
	closedir(dp);
	free(full);
	return rc;
}

/* 1 when `name` is a top-level entry of interest. */
static int
is_top(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(tops) / sizeof(tops[0]); i++)
		if (strcmp(name, tops[i]) == 0)
			return 1;
	return 0;
}

/* 1 for editor scratch files whose changes never matter. */
static int
is_scratch(const char *name)
{
	size_t n = strlen(name);

	return (n > 0 && name[n - 1] == '~') ||
	    strncmp(name, ".#", 2) == 0 || strcmp(name, "4913") == 0 ||
	    (name[0] == '.' && (util_has_suffix(name, ".swp") ||
	    util_has_suffix(name, ".swx")));
}

/* (Re)adds the watches of every top-level directory; 0 or -1. */
static int
add_all(struct watch *w)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(tops) / sizeof(tops[0]); i++)
		if (add_tree(w, tops[i], 0) == -1)
			rc = -1;
	return rc;
}

struct watch *
watch_new(const char *dir)
{
	struct watch *w = xcalloc(1, sizeof(*w));

	w->dir = xstrdup(dir);
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd == -1) {
		fprintf(stderr, "tebiki: cannot start inotify: %s\n",
		    strerror(errno));
		goto fail;
	}
	/* the site directory itself: site.yaml and new top-level dirs */
	if (add_one(w, "") == -1 || w->n == 0) {
		if (w->n == 0)
			fprintf(stderr, "tebiki: cannot watch '%s'\n", dir);
		goto fail;
	}
	if (add_all(w) == -1)
		goto fail;
	return w;
fail:
	watch_free(w);
	return NULL;
}

int
watch_fd(const struct watch *w)
{
	return w->fd;
}

int
watch_count(const struct watch *w)
{
	return (int)w->n;
}

/* Notes `rel`/`name` as the change that names the next build when
 * nothing was noted yet or what was is gone (an editor's temporary file
 * renamed over the page: the page names it), and among the changes
 * watch_take hands over. */
static void
note(struct watch *w, char **what, const char *rel, const char *name)
{
	char *path = name[0] ? util_path_join(rel, name) : xstrdup(rel);
	size_t i;

	for (i = 0; i < w->nchanged; i++)
		if (strcmp(w->changed[i], path) == 0)
			break;
	if (i == w->nchanged && w->nchanged <= MAX_CHANGED) {
		if (w->nchanged == MAX_CHANGED) {
			free(path);
			path = xstrdup("(many files)");
		}
		w->changed = xreallocarray(w->changed, w->nchanged + 1,
		    sizeof(*w->changed));
		w->changed[w->nchanged++] = xstrdup(path);
	}
	if (what != NULL && *what != NULL && strcmp(*what, path) != 0) {
		char *was = full_path(w, *what);
		struct stat st;

		if (lstat(was, &st) == -1) {
			free(*what);
			*what = NULL;
		}
		free(was);
	}
	if (what != NULL && *what == NULL)
		*what = path;
	else
		free(path);
}

/* See watch.h. */
size_t
watch_take(struct watch *w, char ***paths)
{
	size_t n = w->nchanged;

	*paths = w->changed;
	w->changed = NULL;
	w->nchanged = 0;
	return n;
}

int
watch_read(struct watch *w, char **what)
{
	char evbuf[16384]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t len;
	char *p;
	int changed = 0;

	for (;;) {
		len = read(w->fd, evbuf, sizeof(evbuf));
		if (len == -1 && errno == EINTR)
			continue;
		if (len == -1 && errno == EAGAIN)
			break;
		if (len <= 0) {
			fprintf(stderr, "tebiki: cannot read inotify events: "
			    "%s\n", len == 0 ? "end of file" : strerror(errno));
			return -1;
		}
		for (p = evbuf; p < evbuf + len;
		    p += sizeof(*ev) + ev->len) {
			struct wdir *e;
			char *rel;

			ev = (const struct inotify_event *)(void *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				/* events were lost: rescan, rebuild */
				add_all(w);
				note(w, what, "", "(many files)");
				changed = 1;
				continue;
			}
			if (ev->mask & IN_IGNORED) {
				forget(w, ev->wd);
				continue;
			}
			if ((e = find(w, ev->wd)) == NULL)
				continue;
			if (ev->len == 0) {
				/* the directory itself went away */
				if (e->rel[0] != '\0') {
					note(w, what, e->rel, "");
					changed = 1;
				}
				continue;
			}
			if (is_scratch(ev->name))
				continue;
			if (e->rel[0] == '\0') {
				if (strcmp(ev->name, "site.yaml") == 0) {
					note(w, what, "", ev->name);
					changed = 1;
				} else if (is_top(ev->name)) {
					if (ev->mask & (IN_CREATE |
					    IN_MOVED_TO))
						add_tree(w, ev->name, 0);
					note(w, what, "", ev->name);
					changed = 1;
				}
				continue;
			}
			if ((ev->mask & IN_ISDIR) &&
			    (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
				rel = util_path_join(e->rel, ev->name);
				add_tree(w, rel, 0);
				free(rel);
			}
			note(w, what, e->rel, ev->name);
			changed = 1;
		}
	}
	return changed;
}

void
watch_free(struct watch *w)
{
	size_t i;

	if (w == NULL)
		return;
	if (w->fd != -1)
		close(w->fd);
	for (i = 0; i < w->nchanged; i++)
		free(w->changed[i]);
	free(w->changed);
	for (i = 0; i < w->n; i++)
		free(w->dirs[i].rel);
	free(w->dirs);
	free(w->dir);
	free(w);
}

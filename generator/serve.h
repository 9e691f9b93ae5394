/*
 * serve: the HTTP side of `tebiki serve` (libmicrohttpd, one thread per
 * connection).
 *
 * Serves the files of one output directory (only files inside it: paths
 * are decoded, `..` segments and NUL bytes refused, the result resolved
 * with realpath and kept inside), GET and HEAD, ETag / If-None-Match,
 * `index.html` for directories, the built 404.html for missing files.
 * HTML pages get `<script src="/__tebiki/reload.js" data-gen="N">`
 * before </body>; the script listens to /__tebiki/events (Server-Sent
 * Events):
 *
 *   event: hello    data {"gen":N,"error":null|"text"}  on connecting
 *   event: reload   data {"gen":N}     after each successful rebuild, or
 *                   {"gen":N,"paths":[...]}: only those pages reload
 *   event: error    data {"gen":N,"text":"..."}  after a failed one (and
 *                   on connecting while the last build failed)
 *   ": keepalive"   comment every 15 seconds (srv_opts.keepalive)
 *
 * /__tebiki/status answers {"gen":N,"error":null|"text"} as JSON.
 * `gen` counts the successful builds.
 */
#ifndef SERVE_H
#define SERVE_H

#include <stddef.h>

struct srv;

struct srv_opts {
	const char	*bind;		/* numeric address; NULL: 127.0.0.1 */
	int		 port;		/* 0: any free port */
	const char	*root;		/* directory served; may appear later */
	int		 keepalive;	/* seconds between keepalives; 0: 15 */
};

/* Binds and starts serving; NULL after printing "tebiki: ..." (a port in
 * use is named).  Free with srv_stop(). */
struct srv	*srv_start(const struct srv_opts *);
/* The port actually bound. */
int		 srv_port(const struct srv *);
/* A successful build is in place (or, with `preview`, pages of one):
 * tells every page to reload, or, when `paths` is not NULL, the pages
 * whose output paths (relative to the root, "policies/a.html",
 * "index.html" for "/") are among the n given.  A build clears the error
 * of the last one (and then every page reloads); a preview keeps it. */
void		 srv_built(struct srv *, const char *const *paths, size_t n,
		    int preview);
/* A build failed with the diagnostics `text` (copied): every page shows
 * it over the last good build. */
void		 srv_failed(struct srv *, const char *text);
/* Ends the event streams, stops the daemon, frees everything; NULL is
 * fine. */
void		 srv_stop(struct srv *);

#endif

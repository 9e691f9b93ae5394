/*
 * template: Mustache templates, compiled once and rendered many times.
 *
 * A set holds named templates ("base", "page-policy", "partials/header").
 * tmpl_set_compile() turns each into a flat list of ops (TEXT, VAR, RAW,
 * SECTION, INVERTED, PARTIAL, PARENT, BLOCK), each remembering its
 * line:col, and resolves static partial and parent names.  After that the
 * set is read-only: tmpl_render() may be called from many threads at once
 * on the same set (all render state lives on the caller's stack/heap).
 *
 * Supported: {{x}} (HTML-escaped: & < > " '), {{{x}}} and {{&x}} (raw),
 * dotted names ("list.0" is a list's first item), {{.}}, sections over lists / maps / truthy scalars,
 * inverted sections, comments, partials with standalone indentation,
 * set delimiters, inheritance ({{<parent}}{{$block}}..{{/block}}{{/parent}}
 * and {{$block}}default{{/block}}), dynamic names ({{>*name}}, {{<*name}}).
 * Falsy values follow val_truthy().  Numbers render as their source text.
 * Lambdas are not supported.
 *
 * Diagnostics read "layouts/page.mustache:12:7: error: unclosed section
 * 'page.toc'" (the file part is the `display` path given when adding).
 */
#ifndef TEMPLATE_H
#define TEMPLATE_H

#include <stddef.h>

struct buf;
struct diag;
struct value;

/* Nested partial / parent / block expansions allowed while rendering. */
#define TMPL_MAX_DEPTH		100
/* Sections nested deeper than this in one template are a compile error. */
#define TMPL_MAX_NEST		512

struct tmpl_set;

/* Returns an empty set (caller frees with tmpl_set_free).  Strict by
 * default: an unknown static partial or parent name is a compile error. */
struct tmpl_set	*tmpl_set_new(void);
void		 tmpl_set_free(struct tmpl_set *);

/* Strict (1, the default): tmpl_set_compile() reports every {{>name}} or
 * {{<name}} that names no template.  Not strict (0, Mustache spec
 * behaviour): such tags render as the empty string.  Dynamic names
 * ({{>*x}}) that resolve to no template always render as empty. */
void		 tmpl_set_strict(struct tmpl_set *, int);

/*
 * Adds every *.mustache file under `dir` (recursively, in byte order);
 * a template's name is its path relative to `dir` without the extension
 * ("base", "partials/header").  A name already in the set is kept: add
 * the site's directory FIRST so that it overrides the theme's.  `display`
 * replaces `dir` in diagnostics ("themes/default/layouts").
 * Returns 0, or -1 after reporting (missing directory, unreadable file).
 */
int		 tmpl_set_add_dir(struct tmpl_set *, const char *dir,
		    const char *display, struct diag *);

/*
 * Adds one template from memory (the text is copied).  `display` is the
 * file name used in diagnostics (NULL: the name).  A name already in the
 * set is kept (returns 0 without adding).  Returns 0, or -1 after
 * reporting (invalid name).
 */
int		 tmpl_set_add_string(struct tmpl_set *, const char *name,
		    const char *text, size_t len, const char *display,
		    struct diag *);

/* Compiles every template not compiled yet and links partial / parent
 * names.  Reports every problem; returns 0, or -1 if any template has
 * errors (the others stay usable). */
int		 tmpl_set_compile(struct tmpl_set *, struct diag *);

/* 1 when the set holds a template called `name`. */
int		 tmpl_exists(const struct tmpl_set *, const char *name);

/*
 * Renders template `name` against `ctx` (borrowed; the bottom of the
 * context stack), appending to `out`.  Returns 0, or -1 after reporting
 * (unknown or uncompiled template, recursion deeper than TMPL_MAX_DEPTH);
 * on error `out` may hold partial output.  Thread-safe on a compiled set.
 */
int		 tmpl_render(const struct tmpl_set *, const char *name,
		    const struct value *ctx, struct buf *out, struct diag *);

#endif

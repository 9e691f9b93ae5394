/*
 * page: one source file of content/ -- read it, split the front matter from
 * the body, parse the front matter.
 *
 * Front matter is a first line `---` and a closing line `---` or `...`; a
 * UTF-8 BOM and CRLF line ends are tolerated; a file without front matter is
 * a plain page whose body is the whole file.
 */
#ifndef PAGE_H
#define PAGE_H

#include <stddef.h>

#include "buf.h"

struct diag;
struct value;

struct page_src {
	struct buf	 text;		/* the whole file (BOM removed) */
	struct value	*meta;		/* front matter map (never NULL) */
	const char	*body;		/* slice of text */
	size_t		 body_len;
	int		 body_line;	/* file line of the body's first line */
	int		 has_fm;	/* front matter was present */
	int		 fm_failed;	/* ...but could not be parsed (reported;
					 * meta is an empty map standing in,
					 * so no field of it is known) */
	int		 fm_line;	/* line of the opening '---' */
	int		 fixed;		/* invalid UTF-8 was replaced */
};

/* Splits `text` (taken over, NUL-terminated) into front matter and body and
 * parses the front matter.  `file` is the path used in diagnostics.  Returns
 * 0, or -1 after reporting (the body is still set so other checks can run). */
int	page_split(struct page_src *, struct buf *text, const char *file,
	    struct diag *);
/* Reads `path` and calls page_split(); -1 after reporting. */
int	page_load(struct page_src *, const char *path, const char *file,
	    struct diag *);
void	page_src_release(struct page_src *);
/* Frees the text and body of ps (the front matter stays); page_reread
 * reads them again. */
void	page_drop_text(struct page_src *);
/* Reads `path` again into the text of ps as page_split left it (BOM
 * removed, invalid UTF-8 replaced when it was), with the body from byte
 * body_off on.  0, or -1 with errno set.  The caller checks that the file
 * did not change. */
int	page_reread(struct page_src *, const char *path, size_t body_off);
/* Reports invalid UTF-8 and NUL bytes in `text` as diagnostics; returns the
 * number of problems (NUL bytes are errors, bad UTF-8 a warning). */
int	page_check_text(const char *text, size_t len, const char *file,
	    struct diag *);

#endif

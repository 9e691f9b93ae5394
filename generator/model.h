/*
 * model: the handbook model -- control catalogs, the front-matter schema
 * per document type, applicability, the glossary, and the typed reference
 * graph between documents and controls (both directions).
 */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>

#include "hmap.h"

struct build;
struct value;

struct cgroup {
	char	*id;
	char	*title_ja;
	char	*title_en;
};

struct catalog {
	char		*id;		/* "iso27001-2022" */
	char		*prefix;	/* "iso": 'iso:8.13' */
	char		*title_ja;
	char		*title_en;
	char		*src;		/* file, for diagnostics */
	struct cgroup	*groups;
	size_t		 ngroups;
};

struct control {
	char	*key;		/* "8.13" (default catalog) or "csf:PR.DS-11" */
	char	*id;		/* id inside its catalog */
	char	*title_ja;
	char	*title_en;
	char	*group;		/* group id, may be NULL */
	size_t	 catalog;
	char	*out;		/* "controls/8.13.html" */
	int	 applicable;	/* 1, 0, or -1 when not stated */
	char	*justification;
	char	*impl_status;	/* implemented, partial, planned, ... */
};

enum model_target {
	MODEL_PAGE,
	MODEL_CONTROL
};

/* One edge: page `from` refers to a page or control through `rel`. */
struct ref {
	size_t		 from;	/* page index */
	enum model_target kind;
	size_t		 to;	/* page or control index */
	const char	*rel;	/* "controls", "implements", "related",
				 * "affects", "incident", "mentions", ... */
};

struct model {
	struct catalog	*cats;
	size_t		 ncats;
	struct control	*ctls;
	size_t		 nctls;
	struct hmap	 by_key;	/* lowercase key -> control index */
	struct value	*schema;	/* merged schema */
	struct value	*glossary;	/* list of {term, reading, definition,
					 * aliases, anchor} */
	struct ref	*refs;		/* sorted by from after finish */
	size_t		 nrefs, refcap;
	size_t		*in_page_off;	/* CSR index of incoming refs: page p */
	size_t		*in_page;	/* has in_page[in_page_off[p] ..
					 * in_page_off[p + 1]) */
	size_t		*in_ctl_off;	/* the same for controls */
	size_t		*in_ctl;
	size_t		*out_off;	/* refs[out_off[p] .. out_off[p + 1])
					 * start at page p */
};

/* Loads catalogs, schema, applicability and glossary; -1 after reporting. */
int		 model_load(struct build *);
/* Validates every page's front matter and records the declared references;
 * -1 if anything was reported as an error. */
int		 model_check(struct build *);
/* Adds one reference (deduplicated later). */
void		 model_add_ref(struct model *, size_t from, enum model_target,
		    size_t to, const char *rel);
/* Sorts and deduplicates the references and indexes them both ways;
 * call after the last add. */
void		 model_finish_refs(struct model *, size_t npages);
/* Looks up a control by any spelling ("8.13", "A.8.13", "iso:8.13");
 * returns its index or -1. */
long		 model_find_control(const struct model *, const char *);
void		 model_free(struct model *);

#endif

/*
 * yml: YAML text -> value tree, with libyaml.
 *
 * Every value keeps its 1-based line and column in the source file (the text
 * may be a slice of a file: `line0` is the file line of the text's first
 * line).  Duplicate keys, unknown tags, complex keys, nesting deeper than
 * YML_MAX_DEPTH and alias expansion past YML_MAX_ALIAS_NODES are errors.
 * Plain scalars resolve as in YAML 1.2's core schema (null, true/false,
 * numbers), plus YYYY-MM-DD dates; quoted scalars are always strings.
 */
#ifndef YML_H
#define YML_H

#include <stddef.h>

struct diag;
struct value;

#define YML_MAX_DEPTH		200
#define YML_MAX_ALIAS_NODES	10000

/* Returns the document's root (caller unrefs); an empty text gives a null
 * value.  Returns NULL after reporting every problem to `d`. */
struct value	*yml_parse(const char *text, size_t len, const char *file,
		    int line0, struct diag *d);

#endif

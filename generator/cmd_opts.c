/*
 * cmd_opts: the option values several commands share (-j, --today,
 * --audience), checked once with the same messages everywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "value.h"

int
cmd_opt_jobs(const char *arg, int *jobs)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (*arg == '\0' || *end || n < 1 || n > 256) {
		fprintf(stderr, "tebiki: -j needs a number from 1 to 256, not "
		    "'%s'\n", arg);
		return -1;
	}
	*jobs = (int)n;
	return 0;
}

int
cmd_opt_today(const char *arg, int *y, int *m, int *d)
{
	if (val_parse_date(arg, strlen(arg), y, m, d) == -1) {
		fprintf(stderr, "tebiki: --today needs a date YYYY-MM-DD, not "
		    "'%s'\n", arg);
		return -1;
	}
	return 0;
}

int
cmd_opt_audience(const char *arg, const char **audience)
{
	if (strcmp(arg, "public") != 0 && strcmp(arg, "internal") != 0 &&
	    strcmp(arg, "confidential") != 0) {
		fprintf(stderr, "tebiki: unknown audience '%s' (public, internal "
		    "or confidential)\n", arg);
		return -1;
	}
	*audience = arg;
	return 0;
}

/*
 * cmd_build: `tebiki build` and `tebiki check`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "cmd.h"
#include "diag.h"

static const char build_usage[] =
    "usage: tebiki build [-s DIR] [-o DIR] [-j N] [--today YYYY-MM-DD]\n"
    "                    [--audience public|internal|confidential]\n"
    "\n"
    "Builds the site in DIR (the directory holding site.yaml) into the\n"
    "output directory.  The new output replaces the old one only when the\n"
    "whole build succeeded; on errors the previous output is left as it was.\n"
    "\n"
    "  -s, --source DIR     site directory (default .)\n"
    "  -o, --output DIR     output directory (default: 'output' in site.yaml,\n"
    "                       else public)\n"
    "  -j, --jobs N         worker threads (default: number of CPUs)\n"
    "      --today DATE     the date the build treats as today (YYYY-MM-DD)\n"
    "      --audience A     public, internal or confidential: leave out every\n"
    "                       page classified above A, and everything about it\n"
    "      --no-cache       render every page again (the render cache in\n"
    "                       .tebiki-cache/ is neither read nor written)\n"
    "  -q, --quiet          no summary line\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 built, 1 content errors, 2 usage or environment errors.\n";

static const char check_usage[] =
    "usage: tebiki check [-s DIR] [-j N] [--today YYYY-MM-DD] [--strict]\n"
    "                    [--format text|json]\n"
    "\n"
    "Runs the whole build pipeline without writing anything and lists every\n"
    "problem.\n"
    "\n"
    "  -s, --source DIR     site directory (default .)\n"
    "  -j, --jobs N         worker threads (default: number of CPUs)\n"
    "      --today DATE     the date the check treats as today (YYYY-MM-DD)\n"
    "      --strict         warnings count as errors\n"
    "      --audience A     check the build for audience A\n"
    "      --format FMT     text (default) or json (one object per line)\n"
    "  -q, --quiet          no summary line\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit status: 0 clean, 1 content errors, 2 usage or environment errors.\n";

static int
run(int argc, char **argv, int write)
{
	static const struct option longopts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "today", required_argument, NULL, 'T' },
		{ "strict", no_argument, NULL, 'S' },
		{ "format", required_argument, NULL, 'F' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "audience", required_argument, NULL, 'A' },
		{ "no-cache", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct build_opts o;
	struct diag d;
	enum diag_format fmt = DIAG_TEXT;
	const char *usage = write ? build_usage : check_usage;
	int c, rc, strict = 0;

	memset(&o, 0, sizeof(o));
	o.src_dir = ".";
	o.write = write;
	optind = 1;
	while ((c = getopt_long(argc, argv, write ? "s:o:j:qh" : "s:j:qh",
	    longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.src_dir = optarg;
			break;
		case 'o':
			o.out_dir = optarg;
			break;
		case 'j':
			if (cmd_opt_jobs(optarg, &o.jobs) == -1)
				return CMD_USAGE;
			break;
		case 'T':
			if (cmd_opt_today(optarg, &o.today_y, &o.today_m,
			    &o.today_d) == -1)
				return CMD_USAGE;
			break;
		case 'S':
			if (write)
				goto bad;
			strict = 1;
			break;
		case 'F':
			if (write)
				goto bad;
			if (strcmp(optarg, "json") == 0) {
				fmt = DIAG_JSON;
			} else if (strcmp(optarg, "text") != 0) {
				fprintf(stderr, "tebiki: unknown format '%s' "
				    "(text or json)\n", optarg);
				return CMD_USAGE;
			}
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'N':
			if (!write)
				goto bad;
			o.no_cache = 1;
			break;
		case 'A':
			if (cmd_opt_audience(optarg, &o.audience) == -1)
				return CMD_USAGE;
			break;
		case 'h':
			fputs(usage, stdout);
			return CMD_OK;
		default:
			goto bad;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tebiki: unexpected argument '%s'\n",
		    argv[optind]);
		goto bad;
	}
	if (fmt == DIAG_JSON)
		o.quiet = 1;
	diag_init(&d);
	d.strict = strict;
	rc = build_run(&o, &d);
	if (rc == CMD_OK && diag_errors(&d) > 0)
		rc = CMD_CONTENT;
	/* a failed build ends with what it found, as a compiler does */
	if (rc == CMD_CONTENT && !o.quiet && diag_errors(&d) > 0) {
		size_t ne = diag_errors(&d), nw = diag_warnings(&d);
		char warn[64] = "";

		if (nw > 0)
			snprintf(warn, sizeof(warn), " and %zu warning%s", nw,
			    nw == 1 ? "" : "s");
		diag_note(&d, NULL, 0, 0, "%zu error%s%s%s%s", ne,
		    ne == 1 ? "" : "s", warn, strict && d.warnings ?
		    " (--strict: warnings count as errors)" : "",
		    write ? "; the output was left as it was" : "");
	}
	diag_flush(&d, fmt == DIAG_JSON ? stdout : stderr, fmt);
	diag_release(&d);
	return rc;
bad:
	fputs(usage, stderr);
	return CMD_USAGE;
}

int
cmd_build(int argc, char **argv)
{
	return run(argc, argv, 1);
}

int
cmd_check(int argc, char **argv)
{
	return run(argc, argv, 0);
}

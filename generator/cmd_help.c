/*
 * cmd_help: `tebiki help [COMMAND]`, `tebiki version` and the usage text.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

void
cmd_usage(FILE *f)
{
	const struct cmd *t;
	size_t i, n;

	t = cmd_table(&n);
	fputs("usage: tebiki COMMAND [OPTIONS]\n\n"
	    "tebiki builds a searchable static site from a security handbook\n"
	    "written in Markdown with YAML front matter.\n\ncommands:\n", f);
	for (i = 0; i < n; i++)
		fprintf(f, "  %-9s %s\n", t[i].name, t[i].synopsis);
	fputs("\nRun 'tebiki help COMMAND' or 'tebiki COMMAND --help' for "
	    "a command's options.\n", f);
}

int
cmd_version(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		puts("usage: tebiki version\n\nPrints tebiki's version.");
		return CMD_OK;
	}
	printf("tebiki %s\n", TEBIKI_VERSION);
	return CMD_OK;
}

int
cmd_help(int argc, char **argv)
{
	const struct cmd *t;
	char *args[3];
	size_t i, n;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		puts("usage: tebiki help [COMMAND]\n\nShows the commands, or "
		    "the options of one command.");
		return CMD_OK;
	}
	if (argc < 2) {
		cmd_usage(stdout);
		return CMD_OK;
	}
	t = cmd_table(&n);
	for (i = 0; i < n; i++) {
		if (strcmp(t[i].name, argv[1]) == 0) {
			args[0] = argv[1];
			args[1] = (char *)"--help";
			args[2] = NULL;
			return t[i].fn(2, args);
		}
	}
	fprintf(stderr, "tebiki: unknown command '%s'\n", argv[1]);
	return CMD_USAGE;
}

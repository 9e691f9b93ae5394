/*
 * main: global options and the command table; nothing else.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static const struct cmd cmds[] = {
	{ "build", cmd_build, "build the site into the output directory" },
	{ "check", cmd_check, "run the whole pipeline without writing" },
	{ "new", cmd_new, "create a document or a site from an archetype" },
	{ "pdf", cmd_pdf, "print documents or the whole handbook to PDF" },
	{ "export", cmd_export, "export a document as one self-contained HTML file" },
	{ "serve", cmd_serve, "preview the site, rebuilding on every change" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "show help for a command" },
};

const struct cmd *
cmd_table(size_t *n)
{
	*n = sizeof(cmds) / sizeof(cmds[0]);
	return cmds;
}

int
main(int argc, char *argv[])
{
	size_t i, n;
	const struct cmd *t = cmd_table(&n);

	if (argc < 2)
		return cmd_usage(stderr), 2;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_usage(stdout), 0;
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	for (i = 0; i < n; i++)
		if (strcmp(argv[1], t[i].name) == 0)
			return t[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "tebiki: unknown command '%s'\n", argv[1]);
	cmd_usage(stderr);
	return 2;
}

/* cmd_build: placeholder until the pipeline lands. */
#include <stdio.h>

#include "cmd.h"

int
cmd_build(int argc, char **argv)
{
	fputs("tebiki: build: not yet implemented\n", stderr);
	return CMD_USAGE;
}

int
cmd_check(int argc, char **argv)
{
	return cmd_build(argc, argv);
}

/*
 * cmd: the subcommands (one file each, cmd_NAME.c) and the command table
 * that main.c defines.
 */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>
#include <stdio.h>

struct cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*synopsis;
};

/* Exit statuses shared by every command. */
#define CMD_OK		0	/* success */
#define CMD_CONTENT	1	/* content errors */
#define CMD_USAGE	2	/* usage or environment errors */

int		 cmd_build(int, char **);
int		 cmd_check(int, char **);
int		 cmd_new(int, char **);
int		 cmd_pdf(int, char **);
int		 cmd_export(int, char **);
int		 cmd_serve(int, char **);
int		 cmd_version(int, char **);
int		 cmd_help(int, char **);
void		 cmd_usage(FILE *);
/* Shared option values: 0, or -1 after printing why (exit CMD_USAGE). */
int		 cmd_opt_jobs(const char *, int *jobs);
int		 cmd_opt_today(const char *, int *y, int *m, int *d);
int		 cmd_opt_audience(const char *, const char **audience);
/* Defined by main.c. */
const struct cmd *cmd_table(size_t *);

#endif

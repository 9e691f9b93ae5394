/*
 * cmd_pdf: `tebiki pdf` -- builds the site into a temporary directory and
 * prints a page of it to PDF with headless Chromium: one document, a
 * selection (several ids or a type) or the whole handbook (print.html).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "buf.h"
#include "cmd.h"
#include "diag.h"
#include "print.h"
#include "util.h"

#define CHROMIUM_TIMEOUT 120	/* seconds for one print */

static const char pdf_usage[] =
    "usage: tebiki pdf [ID ... | --all | --type TYPE] [-s DIR] [-o FILE]\n"
    "                  [--audience A] [--today YYYY-MM-DD]\n"
    "\n"
    "Prints documents to PDF with headless Chromium: one document by id,\n"
    "several documents or every document of a type in one PDF, or the\n"
    "whole handbook (--all: cover, contents, every document).  Page\n"
    "numbers, the document id and version run in the page margins; the\n"
    "site's print_footer is printed at the foot of every page.\n"
    "\n"
    "  -s, --source DIR     site directory (default .)\n"
    "  -o, --output FILE    the PDF (default ID.pdf, TYPE.pdf, handbook.pdf\n"
    "                       or documents.pdf)\n"
    "      --all            the whole handbook\n"
    "      --type TYPE      every document of TYPE (policy, procedure, ...)\n"
    "      --audience A     public, internal or confidential: print only\n"
    "                       what audience A may read\n"
    "      --today DATE     the date the build treats as today\n"
    "  -q, --quiet          no summary line\n"
    "  -h, --help           this help\n"
    "\n"
    "Needs chromium and a Japanese font (apt-get install chromium\n"
    "fonts-noto-cjk fonts-ipaexfont-gothic; with the TrueType IPAex font\n"
    "the PDF embeds a named CID font); TEBIKI_CHROMIUM names another\n"
    "browser binary.\n"
    "Exit status: 0 written, 1 content errors, 2 usage or environment "
    "errors.\n";

/* Path of the Chromium binary (caller frees), or NULL when none. */
static char *
find_chromium(void)
{
	static const char *const names[] = { "chromium", "chromium-browser",
	    "google-chrome-stable", "google-chrome", NULL };
	const char *env = getenv("TEBIKI_CHROMIUM"), *path = getenv("PATH");
	char *dirs, *save = NULL, *dir, *cand;
	size_t i;

	if (env && *env)
		return access(env, X_OK) == 0 ? xstrdup(env) : NULL;
	dirs = xstrdup(path && *path ? path : "/usr/bin:/bin");
	for (i = 0; names[i]; i++) {
		for (dir = strtok_r(dirs, ":", &save); dir;
		    dir = strtok_r(NULL, ":", &save)) {
			cand = util_path_join(*dir ? dir : ".", names[i]);
			if (access(cand, X_OK) == 0 && util_is_file(cand)) {
				free(dirs);
				return cand;
			}
			free(cand);
		}
		free(dirs);
		dirs = xstrdup(path && *path ? path : "/usr/bin:/bin");
	}
	free(dirs);
	return NULL;
}

/* A file:// URL of an absolute path; caller frees. */
static char *
file_url(const char *abs)
{
	struct buf b = BUF_INIT;
	const unsigned char *s;

	buf_puts(&b, "file://");
	for (s = (const unsigned char *)abs; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("/-._~", *s))
			buf_putc(&b, *s);
		else
			buf_printf(&b, "%%%02X", *s);
	}
	return buf_detach(&b);
}

/* Runs `argv` with stdout and stderr to `log`, killing it after `secs`
 * seconds; returns its exit status, or -1 (could not run, killed). */
static int
run_bounded(char *const argv[], const char *log, int secs)
{
	pid_t pid, w;
	int st, fd;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	long waited = 0;

	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		setpgid(0, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w == -1 && errno != EINTR)
			return -1;
		if (waited >= (long)secs * 20) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		nanosleep(&ts, NULL);
		waited++;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Prints the page `html` (absolute path) to the PDF `pdf` (absolute);
 * 0, or -1 after a message on stderr. */
static int
print_pdf(const char *chromium, const char *tmp, const char *html,
    const char *pdf)
{
	char *profile = util_path_join(tmp, "profile");
	char *log = util_path_join(tmp, "chromium.log");
	char *url = file_url(html);
	char *a_profile = xasprintf("--user-data-dir=%s", profile);
	char *a_out = xasprintf("--print-to-pdf=%s", pdf);
	char *argv[] = {
		(char *)chromium, (char *)"--headless", (char *)"--no-sandbox",
		(char *)"--disable-gpu",
		(char *)"--disable-background-networking",
		(char *)"--disable-component-update", (char *)"--disable-sync",
		(char *)"--no-first-run", (char *)"--no-default-browser-check",
		(char *)"--disable-extensions", (char *)"--mute-audio",
		a_profile, (char *)"--no-pdf-header-footer", a_out, url, NULL
	};
	struct stat st;
	int rc = -1, ex;

	unlink(pdf);
	ex = run_bounded(argv, log, CHROMIUM_TIMEOUT);
	if (ex != 0 || stat(pdf, &st) == -1 || st.st_size == 0) {
		struct buf l = BUF_INIT;

		fprintf(stderr, "tebiki: chromium could not print '%s' (%s)\n",
		    html, ex == -1 ? "did not finish in time or could not "
		    "run" : "no PDF written");
		if (util_read_file(log, &l) == 0 && l.len)
			fprintf(stderr, "%s%s", l.len > 2000 ? l.ptr + l.len -
			    2000 : l.ptr, l.ptr[l.len - 1] == '\n' ? "" : "\n");
		buf_release(&l);
		goto out;
	}
	rc = 0;
out:
	free(profile);
	free(log);
	free(url);
	free(a_profile);
	free(a_out);
	return rc;
}

/* `tebiki pdf`: see pdf_usage. */
int
cmd_pdf(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "type", required_argument, NULL, 't' },
		{ "audience", required_argument, NULL, 'A' },
		{ "today", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct build_opts o;
	struct diag d;
	const char *output = NULL;
	char *chromium = NULL, *tmp = NULL, *html = NULL, *pdf = NULL;
	char *abs_out = NULL;
	int c, all = 0, quiet = 0, status = CMD_USAGE;

	memset(&o, 0, sizeof(o));
	o.src_dir = ".";
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.src_dir = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case 't':
			o.print_type = optarg;
			break;
		case 'A':
			if (cmd_opt_audience(optarg, &o.audience) == -1)
				return CMD_USAGE;
			break;
		case 'T':
			if (cmd_opt_today(optarg, &o.today_y, &o.today_m,
			    &o.today_d) == -1)
				return CMD_USAGE;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(pdf_usage, stdout);
			return CMD_OK;
		default:
			fputs(pdf_usage, stderr);
			return CMD_USAGE;
		}
	}
	if ((all != 0) + (optind < argc) + (o.print_type != NULL) != 1) {
		fprintf(stderr, "tebiki: pdf needs document ids, --all or "
		    "--type TYPE (one of them)\n");
		fputs(pdf_usage, stderr);
		return CMD_USAGE;
	}
	if ((chromium = find_chromium()) == NULL) {
		fprintf(stderr, "tebiki: chromium is not installed (%s); "
		    "install it with 'apt-get install chromium "
		    "fonts-noto-cjk fonts-ipaexfont-gothic'\n", getenv("TEBIKI_CHROMIUM") ?
		    "TEBIKI_CHROMIUM is not an executable" : "not found in "
		    "PATH");
		return CMD_USAGE;
	}
	if (optind < argc)
		o.print_ids = (const char *const *)(argv + optind);
	o.print_all = all;
	if (output == NULL)
		output = all ? "handbook.pdf" : o.print_type ? NULL :
		    argc - optind == 1 ? NULL : "documents.pdf";
	if (output)
		pdf = xstrdup(output);
	else if (o.print_type)
		pdf = xasprintf("%s.pdf", o.print_type);
	else
		pdf = xasprintf("%s.pdf", argv[optind]);
	diag_init(&d);
	d.quiet = 1;	/* content warnings are for `tebiki check` */
	tmp = prn_build_temp(&o, &d, &status);
	diag_flush(&d, stderr, DIAG_TEXT);
	diag_release(&d);
	if (tmp == NULL)
		goto out;
	status = CMD_USAGE;
	html = xasprintf("%s/site/%s", tmp, all ? "print.html" :
	    "print-selection.html");
	if (!util_is_file(html)) {
		fprintf(stderr, "tebiki: the theme has no print layout "
		    "(layouts/print.mustache); nothing to print\n");
		goto out;
	}
	abs_out = *pdf == '/' ? xstrdup(pdf) : util_abspath(pdf);
	if (abs_out == NULL) {
		char cwd[4096];

		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			fprintf(stderr, "tebiki: cannot resolve '%s'\n", pdf);
			goto out;
		}
		abs_out = util_path_join(cwd, pdf);
	}
	/* as build -o and export -o do: the directory is made */
	{
		char *slash = strrchr(abs_out, '/'), *dir;

		dir = xasprintf("%.*s", (int)(slash - abs_out), abs_out);
		if (*dir && util_mkdir_p(dir) == -1) {
			fprintf(stderr, "tebiki: cannot create '%s': %s\n",
			    dir, strerror(errno));
			free(dir);
			goto out;
		}
		free(dir);
	}
	if (print_pdf(chromium, tmp, html, abs_out) == -1)
		goto out;
	if (!quiet)
		fprintf(stderr, "tebiki: wrote '%s'\n", pdf);
	status = CMD_OK;
out:
	if (tmp)
		util_rmtree(tmp);
	free(tmp);
	free(html);
	free(pdf);
	free(abs_out);
	free(chromium);
	return status;
}

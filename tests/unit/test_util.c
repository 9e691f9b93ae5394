/*
 * Unit tests for util_write_file: a new file (and its missing parent
 * directories) is made; an existing file is replaced whole, longer or
 * shorter; a file with another name (a hard link, as a build's work
 * directory shares files with the output) is replaced by a new one and the
 * other name keeps what it held.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

#include "harness.h"

static char *
slurp(const char *path)
{
	struct buf b = BUF_INIT;

	if (util_read_file(path, &b) == -1) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static long
links(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_nlink : -1;
}

int
main(void)
{
	char dir[] = "/tmp/tebiki-test-util.XXXXXX";
	char *a, *b, *c, *s;
	struct stat sa, sb;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	a = xasprintf("%s/x/y/a.html", dir);
	b = xasprintf("%s/b.html", dir);
	c = xasprintf("%s/c.html", dir);

	INT_EQ(util_write_file(a, "first version", 13), 0, "new file");
	STR_EQ(s = slurp(a), "first version", "new file's bytes");
	free(s);
	INT_EQ(util_write_file(a, "2nd", 3), 0, "shorter");
	STR_EQ(s = slurp(a), "2nd", "shorter: no old bytes left");
	free(s);
	INT_EQ(util_write_file(a, "a longer third version", 22), 0, "longer");
	STR_EQ(s = slurp(a), "a longer third version", "longer");
	free(s);
	INT_EQ(util_write_file(a, "", 0), 0, "empty");
	STR_EQ(s = slurp(a), "", "empty");
	free(s);

	/* hard links: written through one name, the other keeps its bytes */
	INT_EQ(util_write_file(b, "shared bytes", 12), 0, "b");
	INT_EQ(link(b, c), 0, "link");
	INT_EQ(links(b), 2, "two names");
	INT_EQ(util_write_file(b, "new bytes", 9), 0, "write through b");
	STR_EQ(s = slurp(b), "new bytes", "b has the new bytes");
	free(s);
	STR_EQ(s = slurp(c), "shared bytes", "c keeps the old bytes");
	free(s);
	INT_EQ(links(b), 1, "b is a file of its own");
	INT_EQ(links(c), 1, "c too");
	OK(stat(b, &sa) == 0 && stat(c, &sb) == 0 && sa.st_ino != sb.st_ino,
	    "b and c are different files");
	/* a file with one name is written in place (same inode) */
	INT_EQ(util_write_file(c, "in place", 8), 0, "c in place");
	OK(stat(c, &sa) == 0 && sa.st_ino == sb.st_ino, "same inode");

	unlink(a);
	unlink(b);
	unlink(c);
	s = xasprintf("%s/x/y", dir);
	rmdir(s);
	free(s);
	s = xasprintf("%s/x", dir);
	rmdir(s);
	free(s);
	rmdir(dir);
	free(a);
	free(b);
	free(c);
	return DONE();
}

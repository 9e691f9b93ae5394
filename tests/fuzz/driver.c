/*
 * driver: runs a libFuzzer target without libFuzzer, for the regression
 * suite.  Each argument is a file (or a directory, whose files are read
 * non-recursively); each file goes through LLVMFuzzerTestOneInput once.
 * LLVMFuzzerInitialize is called first when the target defines it (a weak
 * reference).  Prints one line per file with -v.  Exit status 0, or 2 when
 * a file cannot be read; a target crash ends the process with its signal.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

/* Reads `path` whole and feeds it to the target; 0 or -1. */
static int
run_file(const char *path, int verbose)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
			if (data == NULL)
				abort();
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	if (verbose)
		fprintf(stderr, "run %s (%zu bytes)\n", path, len);
	/* shrink to the exact size so ASan sees reads past the end */
	data = realloc(data, len ? len : 1);
	if (data == NULL)
		abort();
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	struct dirent *e;
	struct stat st;
	char path[4096];
	int i, verbose = 0, rc = 0, nfiles = 0;
	DIR *dir;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if ((dir = opendir(argv[i])) == NULL) {
				perror(argv[i]);
				rc = 2;
				continue;
			}
			while ((e = readdir(dir)) != NULL) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i],
				    e->d_name);
				if (run_file(path, verbose) == -1)
					rc = 2;
				else
					nfiles++;
			}
			closedir(dir);
		} else if (run_file(argv[i], verbose) == -1) {
			rc = 2;
		} else {
			nfiles++;
		}
	}
	printf("%d files\n", nfiles);
	return rc;
}

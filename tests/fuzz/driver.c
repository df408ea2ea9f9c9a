/*
 * driver.c: runs a libFuzzer entry point without libFuzzer, for the smoke
 * test in "make check": every corpus file, then -runs=N inputs made by
 * mutating corpus files and by random bytes. Sanitizers catch the faults;
 * reaching the end prints one TAP "ok" line.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAXIN	4096
#define MAXSEED 256

static uint8_t *seeds[MAXSEED];
static size_t seedlen[MAXSEED];
static int nseeds;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void
load(const char *path)
{
	FILE *f;
	uint8_t *b;
	size_t n;

	if (nseeds >= MAXSEED || (f = fopen(path, "rb")) == NULL)
		return;
	if ((b = malloc(MAXIN)) == NULL) {
		fclose(f);
		return;
	}
	n = fread(b, 1, MAXIN, f);
	fclose(f);
	seeds[nseeds] = b;
	seedlen[nseeds++] = n;
}

static void
load_dir(const char *dir)
{
	DIR *d;
	struct dirent *e;
	char path[4096];
	struct stat st;

	if (stat(dir, &st) == 0 && S_ISREG(st.st_mode)) {
		load(dir);
		return;
	}
	if ((d = opendir(dir)) == NULL)
		return;
	/* cppcheck-suppress readdirCalled ; readdir_r is deprecated */
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		load(path);
	}
	closedir(d);
}

int
main(int argc, char *argv[])
{
	static uint8_t buf[MAXIN];
	long runs = 10000, i;
	int a, k, s;
	size_t n, j;
	const char *name = strrchr(argv[0], '/');

	name = name ? name + 1 : argv[0];
	for (a = 1; a < argc; a++) {
		if (strncmp(argv[a], "-runs=", 6) == 0)
			runs = atol(argv[a] + 6);
		else if (argv[a][0] != '-')
			load_dir(argv[a]);
	}
	for (s = 0; s < nseeds; s++) {
		memcpy(buf, seeds[s], seedlen[s]);
		LLVMFuzzerTestOneInput(buf, seedlen[s]);
	}
	for (i = 0; i < runs; i++) {
		if (nseeds > 0 && (i & 3) != 0) {
			s = (int)(rnd() % (uint32_t)nseeds);
			n = seedlen[s];
			memcpy(buf, seeds[s], n);
			for (k = 0; k < 1 + (int)(rnd() % 8); k++) {
				switch (rnd() % 4) {
				case 0: /* flip a byte */
					if (n > 0)
						buf[rnd() % n] ^= (uint8_t)(1 +
						    rnd() % 255);
					break;
				case 1: /* truncate */
					if (n > 0)
						n = rnd() % n;
					break;
				case 2: /* extend with random bytes */
					for (j = 0;
					     j < 1 + rnd() % 16 && n < MAXIN;
					     j++)
						buf[n++] = (uint8_t)rnd();
					break;
				default: /* interesting values */
					if (n > 0)
						buf[rnd() % n] = (uint8_t[]){
							0, 0xff, 0x7f, 0x80, 1
						}[rnd() % 5];
				}
			}
		} else {
			n = rnd() % 1500;
			for (j = 0; j < n; j++)
				buf[j] = (uint8_t)rnd();
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	for (s = 0; s < nseeds; s++)
		free(seeds[s]);
	printf("ok 1 - %s: %d corpus files and %ld generated inputs\n", name,
	    nseeds, runs);
	return 0;
}

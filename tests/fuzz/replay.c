/*
 * Replays saved fuzz inputs (tests/fuzz/corpus/TARGET/NAME) through a fuzz
 * target without libFuzzer, so crashers found once stay fixed: `make unit`
 * runs it like any other test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	const char *dirs[1] = { FUZZ_CORPUS };
	int n = 0, ndirs = argc > 1 ? argc - 1 : 1;

	for (int i = 0; i < ndirs; i++) {
		const char *dir = argc > 1 ? argv[i + 1] : dirs[0];
		DIR *d = opendir(dir);
		struct dirent *de;
		if (!d) {
			fprintf(stderr, "cannot open %s\n", dir);
			printf("0 passed, 1 failed\n");
			return 1;
		}
		while ((de = readdir(d))) {
			char path[4096];
			FILE *f;
			uint8_t *buf;
			long len;
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			f = fopen(path, "rb");
			if (!f)
				continue;
			fseek(f, 0, SEEK_END);
			len = ftell(f);
			fseek(f, 0, SEEK_SET);
			buf = malloc(len ? (size_t)len : 1);
			if (fread(buf, 1, (size_t)len, f) != (size_t)len)
				len = 0;
			fclose(f);
			LLVMFuzzerTestOneInput(buf, (size_t)len);
			free(buf);
			n++;
		}
		closedir(d);
	}
	fprintf(stderr, "  replayed %d saved inputs\n", n);
	printf("%d passed, 0 failed\n", n);
	return 0;
}

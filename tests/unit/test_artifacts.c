/*
 * The coordinator's artifact names (coordinator/artifacts.c): a plain file
 * name of [A-Za-z0-9._-] not starting with '.', else an error naming the
 * problem; and the artifact key, which is never the lease key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifacts.h"
#include "test.h"

static void test_safe_names_pass(void)
{
	char why[300] = "";
	const char *ok[] = { "failure.png", "steps.json", "frame-2.html", "cdp_frames.json", "a", NULL };

	for (int i = 0; ok[i]; i++)
		ASSERT_INT_EQ(coord_artifact_name_check(ok[i], why, sizeof(why)), 0);
}

static void test_bad_names_name_the_problem(void)
{
	char why[300], longname[200];

	ASSERT_INT_EQ(coord_artifact_name_check("../co.db", why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "starts with '.'");
	ASSERT_INT_EQ(coord_artifact_name_check("..", why, sizeof(why)), -1);
	ASSERT_INT_EQ(coord_artifact_name_check("a/../../b", why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "holds '/'");
	ASSERT_INT_EQ(coord_artifact_name_check("x\\y", why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "holds '\\'");
	ASSERT_INT_EQ(coord_artifact_name_check("a%2fb", why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "percent-encoded");
	ASSERT_INT_EQ(coord_artifact_name_check("a\nb", why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "byte 0x0a at 1");
	ASSERT_INT_EQ(coord_artifact_name_check("caf\xc3\xa9", why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "byte 0xc3");
	ASSERT_INT_EQ(coord_artifact_name_check("", why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "empty");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ASSERT_INT_EQ(coord_artifact_name_check(longname, why, sizeof(why)), -1);
	ASSERT_STR_CONTAINS(why, "longer than 100");
}

static void test_artifact_key_is_not_the_lease_key(void)
{
	char path[] = "/tmp/idlcm-test-artkey-XXXXXX", err[300], lk[65], ak[65], ak2[65];
	int fd = mkstemp(path);

	ASSERT(fd >= 0);
	ASSERT(write(fd, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 65) == 65);
	close(fd);
	ASSERT_INT_EQ(coord_sealing_init(path, "unused", err, sizeof(err)), 0);
	coord_lease_key("j1", 1, "w", lk);
	coord_artifact_key("j1", 1, "w", ak);
	ASSERT_INT_EQ((int)strlen(ak), 64);
	ASSERT(strcmp(lk, ak) != 0);	/* one never opens what the other does */
	coord_artifact_key("j1", 2, "w", ak2);
	ASSERT(strcmp(ak, ak2) != 0);
	coord_artifact_key("j1", 1, "w2", ak2);
	ASSERT(strcmp(ak, ak2) != 0);
	unlink(path);
}

int main(void)
{
	TEST_RUN(test_safe_names_pass);
	TEST_RUN(test_bad_names_name_the_problem);
	TEST_RUN(test_artifact_key_is_not_the_lease_key);
	return TEST_REPORT();
}

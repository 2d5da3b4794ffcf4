/* A parent job's status rolls up from its children (DOMAIN.md "Jobs"). */
#include "rollup.h"
#include "test.h"

#define ROLL(...) ({ static const char *const c_[] = { __VA_ARGS__ }; \
	rollup_status(c_, sizeof(c_) / sizeof(c_[0])); })

static void test_any_failed_is_not_completed(void)
{
	ASSERT_STR_EQ(ROLL("completed", "failed", "running", "retrying"), "not completed");
	ASSERT_STR_EQ(ROLL("failed"), "not completed");
}

static void test_retrying_beats_running(void)
{
	ASSERT_STR_EQ(ROLL("running", "retrying", "completed"), "retrying");
}

static void test_running_and_partly_done(void)
{
	ASSERT_STR_EQ(ROLL("queued", "running"), "running");
	/* one finished, one waits: under way, not queued and not completed */
	ASSERT_STR_EQ(ROLL("completed", "queued"), "running");
}

static void test_queued_until_one_starts(void)
{
	ASSERT_STR_EQ(ROLL("queued", "queued"), "queued");
	ASSERT_STR_EQ(rollup_status(NULL, 0), "queued");
}

static void test_completed_only_when_all_succeeded(void)
{
	ASSERT_STR_EQ(ROLL("completed", "completed", "completed"), "completed");
}

int main(void)
{
	TEST_RUN(test_any_failed_is_not_completed);
	TEST_RUN(test_retrying_beats_running);
	TEST_RUN(test_running_and_partly_done);
	TEST_RUN(test_queued_until_one_starts);
	TEST_RUN(test_completed_only_when_all_succeeded);
	return TEST_REPORT();
}

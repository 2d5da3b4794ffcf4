/*
 * scim_filter unit tests: the list filters Okta and Entra send, PATCH
 * paths with value filters and extension URNs, op names in any case,
 * Entra's string booleans, and the precise errors for what is refused.
 */
#include <stdio.h>
#include <string.h>

#include "scim_filter.h"
#include "test.h"

static void test_filter_okta_username(void)
{
	struct scim_filter f;
	char err[300];

	ASSERT_INT_EQ(scim_filter_parse("userName eq \"ada@example.com\"", &f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(f.n, 1);
	ASSERT_INT_EQ(f.term[0].attr, SCIM_F_USERNAME);
	ASSERT_STR_EQ(f.term[0].value, "ada@example.com");
	/* attribute names and operators are case-insensitive (RFC 7644 §3.4.2.2) */
	ASSERT_INT_EQ(scim_filter_parse("USERNAME EQ \"x\"", &f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(f.term[0].attr, SCIM_F_USERNAME);
	/* the core schema's URN may prefix the attribute */
	ASSERT_INT_EQ(scim_filter_parse("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"y\"",
					&f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(f.term[0].attr, SCIM_F_USERNAME);
	ASSERT_STR_EQ(f.term[0].value, "y");
}

static void test_filter_entra_plus_and_externalid(void)
{
	struct scim_filter f;
	char err[300];

	/* form encoding left '+' for spaces: filter=userName+eq+"x" */
	ASSERT_INT_EQ(scim_filter_parse("userName+eq+\"dale+mohr@x.uk\"", &f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(f.term[0].attr, SCIM_F_USERNAME);
	ASSERT_STR_EQ(f.term[0].value, "dale+mohr@x.uk");	/* inside quotes it stays */
	ASSERT_INT_EQ(scim_filter_parse("externalId eq \"9950b140\"", &f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(f.term[0].attr, SCIM_F_EXTERNAL_ID);
}

static void test_filter_work_email_and_conjunction(void)
{
	struct scim_filter f;
	char err[300];

	ASSERT_INT_EQ(scim_filter_parse("emails[type eq \"work\"].value eq \"a@b.c\" and "
					"userName eq \"A\" AND id eq \"1-2\"", &f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(f.n, 3);
	ASSERT_INT_EQ(f.term[0].attr, SCIM_F_WORK_EMAIL);
	ASSERT_STR_EQ(f.term[0].value, "a@b.c");
	ASSERT_INT_EQ(f.term[1].attr, SCIM_F_USERNAME);
	ASSERT_INT_EQ(f.term[2].attr, SCIM_F_ID);
	ASSERT_STR_EQ(f.term[2].value, "1-2");
	ASSERT_INT_EQ(scim_filter_parse("emails.value eq \"a@b.c\"", &f, err, sizeof(err)), 0);
	ASSERT_INT_EQ(f.term[0].attr, SCIM_F_EMAIL);
	/* members[value eq "id"] is a whole term */
	ASSERT_INT_EQ(scim_filter_parse("displayName eq \"Eng\" and members[value eq \"u1\"]", &f,
					err, sizeof(err)), 0);
	ASSERT_INT_EQ(f.n, 2);
	ASSERT_INT_EQ(f.term[1].attr, SCIM_F_MEMBER);
	ASSERT_STR_EQ(f.term[1].value, "u1");
}

static void test_filter_escapes(void)
{
	struct scim_filter f;
	char err[300];

	ASSERT_INT_EQ(scim_filter_parse("userName eq \"a\\\"b\\\\c\\u0041\"", &f, err, sizeof(err)), 0);
	ASSERT_STR_EQ(f.term[0].value, "a\"b\\cA");
}

static void test_filter_errors_are_precise(void)
{
	struct scim_filter f;
	char err[300];

	ASSERT_INT_EQ(scim_filter_parse("userName co \"x\"", &f, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "operator \"co\" is not supported");
	ASSERT_STR_CONTAINS(err, "at byte 10");
	ASSERT_INT_EQ(scim_filter_parse("userName eq \"x\" or userName eq \"y\"", &f, err,
					sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "\"or\" is not supported");
	ASSERT_INT_EQ(scim_filter_parse("title eq \"x\"", &f, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "filtering on \"title\" is not supported");
	ASSERT_INT_EQ(scim_filter_parse("userName eq \"x", &f, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "unterminated string");
	ASSERT_INT_EQ(scim_filter_parse("userName eq x", &f, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "expected a quoted string");
	ASSERT_INT_EQ(scim_filter_parse("userName eq true", &f, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "quoted string, not a bare value");
	ASSERT_INT_EQ(scim_filter_parse("(userName eq \"x\")", &f, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "parentheses");
	ASSERT_INT_EQ(scim_filter_parse("", &f, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "expected an attribute name");
	ASSERT_INT_EQ(scim_filter_parse("userName", &f, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "expected an operator");
	ASSERT_INT_EQ(scim_filter_parse("userName eq \"x\" userName", &f, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "expected \"and\"");
	ASSERT_INT_EQ(scim_filter_parse("emails[type eq \"home\"].value eq \"x\"", &f, err,
					sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "not supported");
}

static void test_path_simple_and_sub(void)
{
	struct scim_path p;
	char err[300];

	ASSERT_INT_EQ(scim_path_parse("active", &p, err, sizeof(err)), 0);
	ASSERT_STR_EQ(p.attr, "active");
	ASSERT_STR_EQ(p.urn, "");
	ASSERT_STR_EQ(p.sub, "");
	ASSERT_INT_EQ(p.has_filter, 0);
	ASSERT_INT_EQ(scim_path_parse("name.givenName", &p, err, sizeof(err)), 0);
	ASSERT_STR_EQ(p.attr, "name");
	ASSERT_STR_EQ(p.sub, "givenName");
}

static void test_path_value_filter(void)
{
	struct scim_path p;
	char err[300];

	ASSERT_INT_EQ(scim_path_parse("emails[type eq \"work\"].value", &p, err, sizeof(err)), 0);
	ASSERT_STR_EQ(p.attr, "emails");
	ASSERT_INT_EQ(p.has_filter, 1);
	ASSERT_STR_EQ(p.fattr, "type");
	ASSERT_STR_EQ(p.fvalue, "work");
	ASSERT_STR_EQ(p.sub, "value");
	ASSERT_INT_EQ(scim_path_parse("members[value eq \"2819c223\"]", &p, err, sizeof(err)), 0);
	ASSERT_STR_EQ(p.attr, "members");
	ASSERT_STR_EQ(p.fvalue, "2819c223");
	ASSERT_STR_EQ(p.sub, "");
	ASSERT_INT_EQ(scim_path_parse("addresses[type eq \"work\"].streetAddress", &p, err,
				      sizeof(err)), 0);
	ASSERT_STR_EQ(p.sub, "streetAddress");
}

static void test_path_extension_urn(void)
{
	struct scim_path p;
	char err[300];

	ASSERT_INT_EQ(scim_path_parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
				      "department", &p, err, sizeof(err)), 0);
	ASSERT_STR_EQ(p.urn, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
	ASSERT_STR_EQ(p.attr, "department");
	ASSERT_INT_EQ(scim_path_parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
				      "manager.value", &p, err, sizeof(err)), 0);
	ASSERT_STR_EQ(p.attr, "manager");
	ASSERT_STR_EQ(p.sub, "value");
	/* the core URN is the same as no URN */
	ASSERT_INT_EQ(scim_path_parse("urn:ietf:params:scim:schemas:core:2.0:User:userName", &p, err,
				      sizeof(err)), 0);
	ASSERT_STR_EQ(p.urn, "");
	ASSERT_STR_EQ(p.attr, "userName");
}

static void test_path_errors(void)
{
	struct scim_path p;
	char err[300];

	ASSERT_INT_EQ(scim_path_parse("", &p, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "empty path");
	ASSERT_INT_EQ(scim_path_parse("emails[type co \"w\"].value", &p, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "only [type eq \"value\"] filters");
	ASSERT_INT_EQ(scim_path_parse("emails[type eq \"w\"", &p, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "expected ]");
	ASSERT_INT_EQ(scim_path_parse("na me", &p, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "bad attribute name");
	ASSERT_INT_EQ(scim_path_parse("emails[type eq \"w\"]x", &p, err, sizeof(err)), -1);
	ASSERT_STR_CONTAINS(err, "unexpected \"x\"");
}

static void test_ops_and_booleans(void)
{
	ASSERT_INT_EQ(scim_op_parse("replace"), SCIM_OP_REPLACE);
	ASSERT_INT_EQ(scim_op_parse("Replace"), SCIM_OP_REPLACE);
	ASSERT_INT_EQ(scim_op_parse("Add"), SCIM_OP_ADD);
	ASSERT_INT_EQ(scim_op_parse("REMOVE"), SCIM_OP_REMOVE);
	ASSERT_INT_EQ(scim_op_parse("move"), 0);
	ASSERT_INT_EQ(scim_op_parse(NULL), 0);
	ASSERT_INT_EQ(scim_bool_text("False"), 0);
	ASSERT_INT_EQ(scim_bool_text("TRUE"), 1);
	ASSERT_INT_EQ(scim_bool_text("no"), -1);
	ASSERT_INT_EQ(scim_bool_text(""), -1);
}

int main(void)
{
	TEST_RUN(test_filter_okta_username);
	TEST_RUN(test_filter_entra_plus_and_externalid);
	TEST_RUN(test_filter_work_email_and_conjunction);
	TEST_RUN(test_filter_escapes);
	TEST_RUN(test_filter_errors_are_precise);
	TEST_RUN(test_path_simple_and_sub);
	TEST_RUN(test_path_value_filter);
	TEST_RUN(test_path_extension_urn);
	TEST_RUN(test_path_errors);
	TEST_RUN(test_ops_and_booleans);
	return TEST_REPORT();
}

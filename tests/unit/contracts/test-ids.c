/* test-ids.c: UUIDs and RFC 3339 timestamps */
#define G_LOG_DOMAIN "test-ids"

#include "odd-ids.h"

#include <string.h>

static void
test_uuid_new (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < 1000; i++)
    {
      char *uuid = odd_uuid_new ();

      g_assert_true (odd_uuid_is_valid (uuid));
      g_assert_cmpint (uuid[14], ==, '4');                     /* version 4 */
      g_assert_true (strchr ("89ab", uuid[19]) != NULL);       /* RFC 4122 variant */
      for (const char *p = uuid; *p; p++)
        g_assert_false (g_ascii_isupper (*p));
      g_assert_false (g_hash_table_contains (seen, uuid));
      g_hash_table_add (seen, uuid);
    }
}

static void
test_uuid_v5 (void)
{
  g_autofree char *python = NULL;
  g_autofree char *upper = NULL;
  g_autofree char *event = NULL;
  g_autofree char *event_again = NULL;
  g_autofree char *other = NULL;

  /* Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") */
  python = odd_uuid_v5 ("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org");
  g_assert_cmpstr (python, ==, "886313e1-3b8a-5372-9b90-0c9aee199e5d");

  upper = odd_uuid_v5 ("6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "python.org");
  g_assert_cmpstr (upper, ==, python);

  /* The lifecycle event ids of docs/architecture.md; checked against Python's uuid5. */
  event = odd_uuid_v5 (ODD_EVENT_NAMESPACE, "3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b/0/job.validated");
  g_assert_cmpstr (event, ==, "be20236e-28f2-54c2-8cde-59a13e498227");
  event_again = odd_uuid_v5 (ODD_EVENT_NAMESPACE, "3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b/0/job.validated");
  g_assert_cmpstr (event, ==, event_again);
  other = odd_uuid_v5 (ODD_EVENT_NAMESPACE, "3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b/1/job.validated");
  g_assert_cmpstr (event, !=, other);
  g_assert_cmpint (other[14], ==, '5');
}

static void
test_uuid_v5_bad_namespace (void)
{
  char *uuid;

  g_test_expect_message ("odd-ids", G_LOG_LEVEL_CRITICAL, "*not a UUID*");
  uuid = odd_uuid_v5 ("not-a-uuid", "x");
  g_test_assert_expected_messages ();
  g_assert_null (uuid);
}

static void
test_uuid_is_valid (void)
{
  const char *good[] = {
    "00000000-0000-0000-0000-000000000000",
    "3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b",
    "3F2B8C1E-9A4D-4E7B-8C21-5D6E7F809A1B",
  };
  const char *bad[] = {
    "",
    "3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1",     /* short */
    "3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1bb",   /* long */
    "3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1g",    /* not hex */
    "3f2b8c1e9a4d-4e7b-8c21-5d6e7f809a1b0",    /* dash misplaced */
    "3f2b8c1e-9a4d-4e7b-8c21_5d6e7f809a1b",
    "{3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b}",
    " 3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (odd_uuid_is_valid (good[i]));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("bad: '%s'", bad[i]);
      g_assert_false (odd_uuid_is_valid (bad[i]));
    }
  g_assert_false (odd_uuid_is_valid (NULL));
}

static void
test_time_format (void)
{
  struct {
    gint64      usec;
    const char *text;
  } cases[] = {
    { 0, "1970-01-01T00:00:00.000Z" },
    { 1767323045678000, "2026-01-02T03:04:05.678Z" },
    { 1767323045678999, "2026-01-02T03:04:05.678Z" },   /* truncated to milliseconds */
    { -1, "1969-12-31T23:59:59.999Z" },
    { 951782400000000, "2000-02-29T00:00:00.000Z" },
    { 253402300799000000, "9999-12-31T23:59:59.000Z" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = odd_time_format_rfc3339 (cases[i].usec);
      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

static void
test_time_parse (void)
{
  struct {
    const char *text;
    gint64      usec;
  } good[] = {
    { "1970-01-01T00:00:00Z", 0 },
    { "2026-01-02T03:04:05.678Z", 1767323045678000 },
    { "2026-01-02t03:04:05.678z", 1767323045678000 },
    { "2026-01-02T04:04:05.678+01:00", 1767323045678000 },
    { "2026-01-01T21:34:05.678-05:30", 1767323045678000 },
    { "2026-01-02T03:04:05.678123456Z", 1767323045678123 },
    { "2000-02-29T00:00:00Z", 951782400000000 },
    { "2024-02-29T12:00:00Z", 1709208000000000 },
    { "2016-12-31T23:59:60Z", 1483228800000000 },        /* leap second */
    { "2017-01-01T00:59:60+01:00", 1483228800000000 },   /* the same leap second, local time */
  };
  const char *bad[] = {
    "",
    "2026-01-02",
    "2026-01-02T03:04:05",           /* no offset */
    "2026-01-02 03:04:05Z",          /* space */
    "2026-13-02T03:04:05Z",          /* month */
    "2026-00-02T03:04:05Z",
    "2026-01-32T03:04:05Z",          /* day */
    "2026-04-31T03:04:05Z",
    "2025-02-29T03:04:05Z",          /* not a leap year */
    "1900-02-29T03:04:05Z",          /* century, not a leap year */
    "2026-01-02T24:00:00Z",
    "2026-01-02T03:60:00Z",
    "2026-01-02T03:04:61Z",
    "2026-01-02T03:04:60Z",          /* leap second not at 23:59 UTC */
    "2026-01-02T03:04:05.Z",         /* empty fraction */
    "2026-01-02T03:04:05+0100",      /* offset without colon */
    "2026-01-02T03:04:05+1:00",
    "2026-01-02T03:04:05+24:00",
    "2026-01-02T03:04:05+01:60",
    "2026-01-02T03:04:05ZZ",
    "2026-1-02T03:04:05Z",
    "+2026-01-02T03:04:05Z",
    "2026-01-02T03:04:05Z ",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      gint64 usec = -1;

      g_test_message ("good: %s", good[i].text);
      g_assert_true (odd_time_parse_rfc3339 (good[i].text, &usec));
      g_assert_cmpint (usec, ==, good[i].usec);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("bad: %s", bad[i]);
      g_assert_false (odd_time_parse_rfc3339 (bad[i], NULL));
    }
  g_assert_false (odd_time_parse_rfc3339 (NULL, NULL));
}

static void
test_time_round_trip (void)
{
  /* "now" is the clock's time between these two readings (floored to the millisecond). */
  gint64 before = g_get_real_time () / 1000 * 1000;
  g_autofree char *now = odd_time_now_rfc3339 ();
  gint64 after = g_get_real_time ();
  g_autofree char *again = NULL;
  gint64 usec = 0;

  g_assert_true (odd_time_parse_rfc3339 (now, &usec));
  g_assert_cmpint (usec, >=, before);
  g_assert_cmpint (usec, <=, after);
  again = odd_time_format_rfc3339 (usec);
  g_assert_cmpstr (now, ==, again);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ids/uuid/new", test_uuid_new);
  g_test_add_func ("/ids/uuid/v5", test_uuid_v5);
  g_test_add_func ("/ids/uuid/v5-bad-namespace", test_uuid_v5_bad_namespace);
  g_test_add_func ("/ids/uuid/is-valid", test_uuid_is_valid);
  g_test_add_func ("/ids/time/format", test_time_format);
  g_test_add_func ("/ids/time/parse", test_time_parse);
  g_test_add_func ("/ids/time/round-trip", test_time_round_trip);

  return g_test_run ();
}

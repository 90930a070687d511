/* Unit tests of the GET /jobs cursor (odd-read-model-cursor.c). */
#include <gio/gio.h>
#include <string.h>

#include "odd-read-model-cursor.h"
#include "odd-read-model-queries.h"

static void
test_round_trip (void)
{
  /* The edges: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z. */
  const gint64 times[] = { 0, 1, 1767225600123456, -1000000, G_GINT64_CONSTANT (-62135596800000000),
                           G_GINT64_CONSTANT (253402300799999999) };
  const char *id = "0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11";

  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autofree char *cursor = odd_jobs_cursor_encode (times[i], id);
      g_autofree char *back_id = NULL;
      g_autoptr(GError) error = NULL;
      gint64 back = 0;

      /* URL-safe without escaping: base64url without padding. */
      g_assert_null (strpbrk (cursor, "+/=%&? "));
      g_assert_true (odd_jobs_cursor_decode (cursor, &back, &back_id, &error));
      g_assert_no_error (error);
      g_assert_cmpint (back, ==, times[i]);
      g_assert_cmpstr (back_id, ==, id);
    }
}

static void
test_upper_case_id (void)
{
  g_autofree char *cursor = odd_jobs_cursor_encode (5, "0B7F4D0E-3A8C-4D55-9A9E-2F0C1E5B7A11");
  g_autofree char *id = NULL;
  gint64 t;

  g_assert_true (odd_jobs_cursor_decode (cursor, &t, &id, NULL));
  g_assert_cmpstr (id, ==, "0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11");
}

static char *
b64url (const char *plain)
{
  char *s = g_base64_encode ((const guchar *) plain, strlen (plain));

  g_strdelimit (s, "+", '-');
  g_strdelimit (s, "/", '_');
  g_strdelimit (s, "=", '\0');
  return s;
}

static void
test_invalid (void)
{
  g_autofree char *no_bar = b64url ("12345");
  g_autofree char *bad_time = b64url ("12x45|0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11");
  g_autofree char *bad_id = b64url ("12345|not-a-uuid");
  g_autofree char *extra = b64url ("1|0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11|x");
  g_autofree char *injection = b64url ("1|0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11'; DROP TABLE jobs; --");
  g_autofree char *too_long = g_strnfill (200, 'A');
  const char *cases[] = {
    "", "!!!!", "abc$", "A", "a b", no_bar, bad_time, bad_id, extra, injection, too_long,
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *id = NULL;
      gint64 t = 42;

      g_assert_false (odd_jobs_cursor_decode (cases[i], &t, &id, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_null (id);
      g_assert_cmpint (t, ==, 42);
    }
}

/* Well formed, but a time no job can have: PostgreSQL's arithmetic on it failed as a 500. */
static void
test_out_of_range (void)
{
  const gint64 times[] = { G_MAXINT64, G_MININT64, G_GINT64_CONSTANT (253402300800000000),
                           G_GINT64_CONSTANT (-62135596800000001) };

  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autofree char *cursor = odd_jobs_cursor_encode (times[i], "0b7f4d0e-3a8c-4d55-9a9e-2f0c1e5b7a11");
      g_autoptr(GError) error = NULL;
      g_autofree char *id = NULL;
      gint64 t = 42;

      g_assert_false (odd_jobs_cursor_decode (cursor, &t, &id, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "9999-12-31T23:59:59.999999Z"));
      g_assert_null (id);
      g_assert_cmpint (t, ==, 42);
    }
}

static void
test_like_escape (void)
{
  const struct { const char *in; const char *out; } cases[] = {
    { "abc", "abc" },
    { "50%", "50\\%" },
    { "a_b", "a\\_b" },
    { "back\\slash", "back\\\\slash" },
    { "%_\\", "\\%\\_\\\\" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *escaped = odd_like_escape (cases[i].in);
      g_assert_cmpstr (escaped, ==, cases[i].out);
    }
}

static void
test_statuses (void)
{
  g_assert_true (odd_job_status_is_valid ("PENDING"));
  g_assert_true (odd_job_status_is_valid ("FAILED"));
  g_assert_false (odd_job_status_is_valid ("failed"));
  g_assert_false (odd_job_status_is_valid (""));
  g_assert_false (odd_job_status_is_valid (NULL));
  g_assert_true (odd_dead_letter_queue_is_valid ("jobs.dead"));
  g_assert_true (odd_dead_letter_queue_is_valid ("jobs.failed.validation"));
  g_assert_false (odd_dead_letter_queue_is_valid ("jobs.created"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/read-model/cursor/round-trip", test_round_trip);
  g_test_add_func ("/read-model/cursor/upper-case-id", test_upper_case_id);
  g_test_add_func ("/read-model/cursor/invalid", test_invalid);
  g_test_add_func ("/read-model/cursor/out-of-range", test_out_of_range);
  g_test_add_func ("/read-model/cursor/like-escape", test_like_escape);
  g_test_add_func ("/read-model/cursor/statuses", test_statuses);

  return g_test_run ();
}

/* test-wt-protocol.c: the web terminal's frames, text and replay buffer */
#include "odd-wt-protocol.h"
#include "odd-wt-ring.h"
#include "odd-json.h"

#include <string.h>

static void
test_ring_keeps_the_last_bytes (void)
{
  g_autoptr(OddWtRing) ring = odd_wt_ring_new (8);
  g_autoptr(GBytes) empty = odd_wt_ring_copy (ring);
  g_autoptr(GBytes) some = NULL;
  g_autoptr(GBytes) wrapped = NULL;
  g_autoptr(GBytes) huge = NULL;

  g_assert_cmpuint (g_bytes_get_size (empty), ==, 0);

  odd_wt_ring_append (ring, (const guint8 *) "abc", 3);
  some = odd_wt_ring_copy (ring);
  g_assert_cmpmem (g_bytes_get_data (some, NULL), g_bytes_get_size (some), "abc", 3);

  odd_wt_ring_append (ring, (const guint8 *) "defghij", 7);
  wrapped = odd_wt_ring_copy (ring);
  g_assert_cmpmem (g_bytes_get_data (wrapped, NULL), g_bytes_get_size (wrapped), "cdefghij", 8);
  g_assert_cmpuint (odd_wt_ring_length (ring), ==, 8);

  odd_wt_ring_append (ring, (const guint8 *) "0123456789ABCDEF", 16);
  huge = odd_wt_ring_copy (ring);
  g_assert_cmpmem (g_bytes_get_data (huge, NULL), g_bytes_get_size (huge), "89ABCDEF", 8);
}

static void
test_ring_starts_on_a_character (void)
{
  g_autoptr(OddWtRing) ring = odd_wt_ring_new (5);
  g_autoptr(GBytes) copy = NULL;

  /* "a✓b✓": the first ✓ loses its lead byte to the ring's size. */
  odd_wt_ring_append (ring, (const guint8 *) "a\xE2\x9C\x93" "b\xE2\x9C\x93", 8);
  copy = odd_wt_ring_copy (ring);
  g_assert_cmpmem (g_bytes_get_data (copy, NULL), g_bytes_get_size (copy), "b\xE2\x9C\x93", 4);
}

static void
test_utf8_split_across_reads (void)
{
  OddWtUtf8Carry carry = { 0 };
  g_autofree char *first = odd_wt_utf8_carry_take (&carry, (const guint8 *) "ok \xE2\x9C", 5);
  g_autofree char *second = odd_wt_utf8_carry_take (&carry, (const guint8 *) "\x93 \xF0\x9F", 4);
  g_autofree char *third = odd_wt_utf8_carry_take (&carry, (const guint8 *) "\x98\x80!", 3);

  g_assert_cmpstr (first, ==, "ok ");
  g_assert_cmpstr (second, ==, "\xE2\x9C\x93 ");
  g_assert_cmpstr (third, ==, "\xF0\x9F\x98\x80!");
  g_assert_cmpuint (carry.n_pending, ==, 0);
}

static void
test_utf8_invalid_bytes (void)
{
  OddWtUtf8Carry carry = { 0 };
  g_autofree char *text = odd_wt_utf8_carry_take (&carry, (const guint8 *) "a\xFF" "b\0c\xC3(", 7);

  /* 0xFF and a lead byte followed by no continuation are replaced; NUL goes. */
  g_assert_cmpstr (text, ==, "a\xEF\xBF\xBD" "bc\xEF\xBF\xBD(");
  g_assert_true (g_utf8_validate (text, -1, NULL));
}

static void
test_secret_equal (void)
{
  g_assert_true (odd_wt_secret_equal ("s3cret", "s3cret"));
  g_assert_false (odd_wt_secret_equal ("s3cret", "s3cre"));
  g_assert_false (odd_wt_secret_equal ("s3cret", "s3cret!"));
  g_assert_false (odd_wt_secret_equal ("s3cret", "S3cret"));
  g_assert_false (odd_wt_secret_equal ("s3cret", ""));
  g_assert_false (odd_wt_secret_equal ("", ""));
  g_assert_false (odd_wt_secret_equal ("s3cret", NULL));
}

static OddSchemaRegistry *
schemas (void)
{
  g_autoptr(GError) error = NULL;
  OddSchemaRegistry *registry = odd_schema_registry_new_default (&error);

  g_assert_no_error (error);
  return registry;
}

static void
test_parse_frames (void)
{
  g_autoptr(OddSchemaRegistry) registry = schemas ();
  const char *reconnect = "{\"type\":\"reconnect\",\"session\":\"6f1c2d0e-8a4b-4c5d-9e7f-0a1b2c3d4e5f\","
                          "\"token\":\"abc\",\"cols\":100,\"rows\":30}";
  const char *input = "{\"type\":\"input\",\"data\":\"\\u001b[A\\u00e9\"}";
  char *message = NULL;
  g_autoptr(OddWtFrame) r = odd_wt_frame_parse (registry, reconnect, strlen (reconnect), &message);
  g_autoptr(OddWtFrame) i = odd_wt_frame_parse (registry, input, strlen (input), &message);

  g_assert_null (message);
  g_assert_nonnull (r);
  g_assert_cmpint (r->type, ==, ODD_WT_FRAME_RECONNECT);
  g_assert_cmpstr (r->token, ==, "abc");
  g_assert_cmpuint (r->cols, ==, 100);
  g_assert_cmpint (i->type, ==, ODD_WT_FRAME_INPUT);
  g_assert_cmpstr (i->data, ==, "\x1b[A\xC3\xA9");
}

static void
test_parse_refuses (void)
{
  g_autoptr(OddSchemaRegistry) registry = schemas ();
  const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { "nope", "not JSON" },
    { "\"input\"", "a JSON object with a \"type\"" },
    { "{\"type\":\"shell\"}", "unknown frame type \"shell\"" },
    { "{\"type\":\"input\"}", "needs \"data\"" },
    { "{\"type\":\"resize\",\"cols\":80}", "needs \"rows\"" },
    { "{\"type\":\"resize\",\"cols\":80,\"rows\":0}", "/rows: must be >= 1" },
    { "{\"type\":\"reconnect\",\"session\":\"x\",\"token\":\"t\"}", "must be a valid uuid" },
    { "{\"type\":\"ping\",\"x\":1}", "must NOT have additional property 'x'" },
  };

  for (guint n = 0; n < G_N_ELEMENTS (cases); n++)
    {
      g_autofree char *message = NULL;
      g_autoptr(OddWtFrame) frame = odd_wt_frame_parse (registry, cases[n].text, strlen (cases[n].text),
                                                        &message);

      g_assert_null (frame);
      g_assert_nonnull (message);
      if (strstr (message, cases[n].message) == NULL)
        g_error ("%s: \"%s\" lacks \"%s\"", cases[n].text, message, cases[n].message);
    }
}

/* What the server writes passes the server-frame schema, escapes included. */
static void
test_server_frames_match_the_schema (void)
{
  g_autoptr(OddSchemaRegistry) registry = schemas ();
  char *frames[] = {
    odd_wt_frame_hello (TRUE, FALSE),
    odd_wt_frame_session (TRUE, "6f1c2d0e-8a4b-4c5d-9e7f-0a1b2c3d4e5f",
                          "q2x7Yp0Lr9sT1uV3wX5yZ7aB9cD1eF3gH5iJ7kL9mN0", 80, 24),
    odd_wt_frame_output ("\x1b[2J\x1b[1;1H\x1f\x7f \xE2\x9C\x93 \"quoted\" \\"),
    odd_wt_frame_notice ("Read-only mode"),
    odd_wt_frame_error ("GLOBAL_CAP", "full"),
    odd_wt_frame_pong (),
    odd_wt_frame_exit (3),
  };

  for (guint n = 0; n < G_N_ELEMENTS (frames); n++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = odd_json_parse (frames[n], -1, &error);
      g_autoptr(GPtrArray) errors = NULL;

      g_assert_no_error (error);
      errors = odd_schema_registry_validate (registry, "web-terminal-server-frame", node, &error);
      g_assert_no_error (error);
      if (errors->len > 0)
        g_error ("%s: %s", frames[n], odd_validation_errors_to_string (errors));
      g_free (frames[n]);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/web-terminal/ring/last-bytes", test_ring_keeps_the_last_bytes);
  g_test_add_func ("/web-terminal/ring/character-boundary", test_ring_starts_on_a_character);
  g_test_add_func ("/web-terminal/utf8/split", test_utf8_split_across_reads);
  g_test_add_func ("/web-terminal/utf8/invalid", test_utf8_invalid_bytes);
  g_test_add_func ("/web-terminal/secret-equal", test_secret_equal);
  g_test_add_func ("/web-terminal/frames/parse", test_parse_frames);
  g_test_add_func ("/web-terminal/frames/refused", test_parse_refuses);
  g_test_add_func ("/web-terminal/frames/server-schema", test_server_frames_match_the_schema);

  return g_test_run ();
}

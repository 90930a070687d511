/* test-json.c: strict JSON parsing (odd-json.c) */
#include <string.h>

#include "odd-json.h"

static void
test_json_strict (void)
{
  static const char *const good[] = {
    "{}", "[]", " {\"a\" : [1, -0.5e+3, 0, 1E2, true, false, null, \"\\u00e9\\n\\\"\"]}\n",
    "\"s\"", "0", "-1", "{\"a\":{\"b\":[[],{}]}}", "\"\xc3\xa9\"", "1.5e-400",
    "9223372036854775807", "-9223372036854775808", "18446744073709551616.0", "1e20",
    "\"\\ud83d\\ude00\"", "\"\\u0001\"",
  };
  static const char *const bad[] = {
    "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "{a:1}", "01", "1.", ".5", "+1", "0x10",
    "1e", "1e+", "-", "tru", "nul", "True", "NaN", "\"a", "\"\\x41\"", "\"\\u12\"", "\"a\tb\"",
    "{\"a\" 1}", "{\"a\":1 /* c */}", "1 2", "{}{}", "[1]]", "1e999", "-1e999", "{\"a\"}",
    /* json-glib would read these as other values (found by tests/fuzz) */
    "9223372036854775808", "-9223372036854775809", "18446744073709551616",
    "\"\\ud800\"", "\"\\udc00x\"", "\"\\ud800\\u0041\"", "\"a\\u0000b\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *problem = NULL;

      if (!odd_json_check_strict (good[i], strlen (good[i]), &problem))
        g_error ("refused valid JSON %s: %s", good[i], problem);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *problem = NULL;

      if (odd_json_check_strict (bad[i], strlen (bad[i]), &problem))
        g_error ("accepted invalid JSON <%s>", bad[i]);
      g_assert_nonnull (problem);
    }
}

static void
test_parse (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = odd_json_parse ("{\"a\":[1,2]}", -1, &error);
  g_autoptr(JsonNode) refused = NULL;

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  /* callers edit what they parse */
  json_object_set_int_member (json_node_get_object (node), "b", 3);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "b"), ==, 3);

  refused = odd_json_parse ("{\"a\":0x10}", -1, &error);
  g_assert_null (refused);
  g_assert_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE);
  g_assert_true (g_str_has_prefix (error->message, "not valid JSON: at byte "));
}

/* json-glib 1.6 writes 1e20 as "1e+20.0"; what we write must parse again (found by tests/fuzz). */
static void
test_to_string_exponent (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = odd_json_parse ("[1e20,-1e308,5e-324,0.5,1,\"1e+5.0\",true]", -1, &error);
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) again = NULL;

  g_assert_no_error (error);
  text = odd_json_to_string (node);
  g_assert_cmpstr (text, ==, "[1e+20,-1e+308,4.9406564584124654e-324,0.5,1,\"1e+5.0\",true]");
  again = odd_json_parse (text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (json_array_get_double_element (json_node_get_array (again), 0), ==, 1e20);
}

/* json-glib 1.6 writes U+001F raw (found by tests/fuzz). */
static void
test_to_string_unit_separator (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = odd_json_parse ("[\"\\u001false\\u001e\", {\"k\\u001f\": 1}]", -1, &error);
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) again = NULL;

  g_assert_no_error (error);
  text = odd_json_to_string (node);
  g_assert_cmpstr (text, ==, "[\"\\u001false\\u001e\",{\"k\\u001f\":1}]");
  again = odd_json_parse (text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (node, again));
}

static void
test_parse_hostile (void)
{
  gsize n = 1024 * 1024;
  g_autofree char *deep = g_malloc (n + 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  static const char bad_utf8[] = "{\"a\":\"\xff\xfe\"}";
  static const char nul[] = "{\"a\":\"x\0y\"}";

  /* a megabyte of '[' must be an error, not a stack overflow in json-glib */
  memset (deep, '[', n);
  deep[n] = '\0';
  node = odd_json_parse (deep, (gssize) n, &error);
  g_assert_null (node);
  g_assert_nonnull (strstr (error->message, "nested deeper than 512 levels"));
  g_clear_error (&error);

  node = odd_json_parse (bad_utf8, sizeof bad_utf8 - 1, &error);
  g_assert_null (node);
  g_assert_nonnull (strstr (error->message, "UTF-8"));
  g_clear_error (&error);

  node = odd_json_parse (nul, sizeof nul - 1, &error);
  g_assert_null (node);
  g_clear_error (&error);

  node = odd_json_parse ("", 0, &error);
  g_assert_null (node);
}

static void
test_getters (void)
{
  g_autoptr(JsonNode) node = odd_json_parse ("{\"s\":\"x\",\"i\":7,\"o\":{},\"a\":[]}", -1, NULL);
  JsonObject *object = json_node_get_object (node);
  gint64 value = 0;

  g_assert_cmpstr (odd_json_get_string (object, "s"), ==, "x");
  g_assert_null (odd_json_get_string (object, "o"));
  g_assert_null (odd_json_get_string (object, "missing"));
  g_assert_null (odd_json_get_string (NULL, "s"));
  g_assert_true (odd_json_get_int (object, "i", &value));
  g_assert_cmpint (value, ==, 7);
  g_assert_false (odd_json_get_int (object, "s", &value));
  g_assert_nonnull (odd_json_get_object (object, "o"));
  g_assert_null (odd_json_get_object (object, "a"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/json/strict", test_json_strict);
  g_test_add_func ("/json/parse", test_parse);
  g_test_add_func ("/json/parse-hostile", test_parse_hostile);
  g_test_add_func ("/json/to-string-exponent", test_to_string_exponent);
  g_test_add_func ("/json/to-string-unit-separator", test_to_string_unit_separator);
  g_test_add_func ("/json/getters", test_getters);

  return g_test_run ();
}

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
    "\"\\ud83d\\ude00\"", "\"a\\u0001\"",
    /* integers beyond 64 bits: odd_json_parse() reads them as doubles, never wrapped */
    "9223372036854775808", "-9223372036854775809", "18446744073709551616",
    /* the most digits after the point PostgreSQL's numeric keeps */
    "1e-16383", "0.5e-16382", "0e16383",
  };
  static const char *const bad[] = {
    "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "{a:1}", "01", "1.", ".5", "+1", "0x10",
    "1e", "1e+", "-", "tru", "nul", "True", "NaN", "\"a", "\"\\x41\"", "\"\\u12\"", "\"a\tb\"",
    "{\"a\" 1}", "{\"a\":1 /* c */}", "1 2", "{}{}", "[1]]", "1e999", "-1e999", "{\"a\"}",
    /* finite doubles PostgreSQL cannot store: a document with one would never be saved */
    "1e-16384", "0.5e-16383", "10e-16384", "0e16384", "0e-99999999999999999999",
    /* json-glib would read these as other values (found by tests/fuzz) */
    "\"\\ud800\"", "\"\\u0001odd-raw\\u0001[1]\"", "[\"\\u0001\"]", "\"\\udc00x\"", "\"\\ud800\\u0041\"", "\"a\\u0000b\"",
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

/* Integers beyond 64 bits are read as the nearest double, not wrapped around. */
static void
test_parse_big_integers (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = odd_json_parse ("{\"a\":[18446744073709551616,-9223372036854775809,1],"
                                             "\"s\":\"18446744073709551616\"}", -1, &error);
  JsonArray *a;

  g_assert_no_error (error);
  a = json_object_get_array_member (json_node_get_object (node), "a");
  g_assert_cmpint (json_node_get_value_type (json_array_get_element (a, 0)), ==, G_TYPE_DOUBLE);
  g_assert_cmpfloat (json_array_get_double_element (a, 0), ==, 18446744073709551616.0);
  g_assert_cmpfloat (json_array_get_double_element (a, 1), ==, -9223372036854775809.0);
  g_assert_cmpint (json_array_get_int_element (a, 2), ==, 1);
  /* strings are left alone */
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "s"), ==, "18446744073709551616");
}

/* A raw node is written as its text, digit for digit, wherever it sits. */
static void
test_raw (void)
{
  const char *payload = "{\"n\":1e19,\"d\":0.1,\"big\":12345678901234567890123,\"s\":\"\\u00e9\\\"\"}";
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonNode) forged = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;

  json_node_take_object (root, json_object_new ());
  json_object_set_member (json_node_get_object (root), "payload", odd_json_raw_new (payload, -1));
  json_object_set_member (json_node_get_object (root), "again", odd_json_raw_new ("[0.1]xyz", 5));
  json_object_set_string_member (json_node_get_object (root), "after", "\x01odd-raw:0000\x01[1]");
  /* the marker inside another string is that string's content (found by tests/fuzz) */
  json_object_set_string_member (json_node_get_object (root), "inside", "x\"\x01odd-raw\x01[2]");
  g_assert_cmpstr (odd_json_raw_get_text (json_object_get_member (json_node_get_object (root), "payload")), ==, payload);
  g_assert_null (odd_json_raw_get_text (json_object_get_member (json_node_get_object (root), "after")));

  text = odd_json_to_string (root);
  expected = g_strdup_printf ("{\"payload\":%s,\"again\":[0.1],\"after\":\"\\u0001odd-raw:0000\\u0001[1]\","
                              "\"inside\":\"x\\\"\\u0001odd-raw\\u0001[2]\"}", payload);
  g_assert_cmpstr (text, ==, expected);
  /* whitespace json-glib escapes (\n, \t, \r), backslashes, quotes, slashes and UTF-8 come
   * back as they were */
  {
    const char *spaced = "[\n\t\"\\u00e9 \xc3\xa9 \xf0\x9f\x98\x80 \\ud83d\\ude00 \\\" a/b\",\r 1]";
    g_autoptr(JsonNode) holder = json_node_new (JSON_NODE_ARRAY);
    g_autofree char *written = NULL;
    g_autofree char *wanted = g_strdup_printf ("[%s]", spaced);

    json_node_take_array (holder, json_array_new ());
    json_array_add_element (json_node_get_array (holder), odd_json_raw_new (spaced, -1));
    written = odd_json_to_string (holder);
    g_assert_cmpstr (written, ==, wanted);
  }
  /* a copy is raw too */
  forged = json_node_copy (json_object_get_member (json_node_get_object (root), "payload"));
  g_assert_cmpstr (odd_json_raw_get_text (forged), ==, payload);
}

static void
test_array_elements (void)
{
  const char *text = " [ {\"a\":\"],[\"} , 1.5e3,\"x\\\"]\" ,[[],{}],null ,{ } ] ";
  static const char *const values[] = { "{\"a\":\"],[\"}", "1.5e3", "\"x\\\"]\"", "[[],{}]", "null", "{ }" };
  g_autoptr(GArray) elements = odd_json_array_elements (text, strlen (text), 0);
  g_autoptr(GArray) bounded = odd_json_array_elements (text, strlen (text), 3);
  g_autoptr(GArray) exact = odd_json_array_elements (text, strlen (text), 6);
  g_autoptr(GArray) none = odd_json_array_elements ("{\"a\":[1]}", 9, 0);
  g_autoptr(GArray) empty = odd_json_array_elements ("[ ]", 3, 0);

  g_assert_nonnull (elements);
  g_assert_cmpuint (elements->len, ==, G_N_ELEMENTS (values));
  for (guint i = 0; i < elements->len; i++)
    {
      OddJsonSpan *e = &g_array_index (elements, OddJsonSpan, i);
      g_autofree char *value = g_strndup (text + e->offset, e->length);

      g_assert_cmpstr (value, ==, values[i]);
    }
  /* one more than the bound says there are more; the bound met is all of them */
  g_assert_cmpuint (bounded->len, ==, 4);
  g_assert_cmpuint (exact->len, ==, 6);
  g_assert_null (none);
  g_assert_cmpuint (empty->len, ==, 0);
}

static void
test_members_and_shallow (void)
{
  const char *text = " { \"type\" : \"t\\u00e9\", \"payload\":{\"a\":[1,{\"b\":\"}\"}]} ,\"n\":-1.5e3,"
                     "\"l\":[[]],\"z\":null,\"\\u0041\":true }";
  g_autoptr(GArray) members = odd_json_object_members (text, strlen (text));
  g_autoptr(JsonNode) shallow = NULL;
  g_autoptr(GArray) none = odd_json_object_members ("[1]", 3);
  g_autoptr(GArray) empty = odd_json_object_members ("{ }", 3);
  static const char *const names[] = { "type", "payload", "n", "l", "z", "A" };
  static const char *const values[] = { "\"t\\u00e9\"", "{\"a\":[1,{\"b\":\"}\"}]}", "-1.5e3", "[[]]", "null", "true" };
  JsonObject *object;

  g_assert_nonnull (members);
  g_assert_cmpuint (members->len, ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < members->len; i++)
    {
      OddJsonMember *m = &g_array_index (members, OddJsonMember, i);
      g_autofree char *value = g_strndup (text + m->offset, m->length);

      g_assert_cmpstr (m->name, ==, names[i]);
      g_assert_cmpstr (value, ==, values[i]);
    }
  g_assert_null (none);
  g_assert_cmpuint (empty->len, ==, 0);

  shallow = odd_json_parse_shallow (text, strlen (text), members);
  object = json_node_get_object (shallow);
  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, "t\xc3\xa9");
  g_assert_cmpuint (json_object_get_size (json_object_get_object_member (object, "payload")), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "l")), ==, 0);
  g_assert_cmpfloat (json_object_get_double_member (object, "n"), ==, -1500);
  g_assert_true (json_object_get_null_member (object, "z"));
  g_assert_true (json_object_get_boolean_member (object, "A"));
}

static void
test_depth (void)
{
  g_autofree char *problem = NULL;

  g_assert_true (odd_json_check_strict_depth ("[[1]]", 5, 2, NULL));
  g_assert_false (odd_json_check_strict_depth ("{\"a\":[[1]]}", 11, 2, &problem));
  g_assert_cmpstr (problem, ==, "at byte 6: nested deeper than 2 levels");
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
  g_assert_cmpstr (text, ==, "[1e+20,-1e+308,4.94065645841247e-324,0.5,1,\"1e+5.0\",true]");
  again = odd_json_parse (text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (json_array_get_double_element (json_node_get_array (again), 0), ==, 1e20);
}

/* json-glib 1.6 writes every double with 17 digits; the shortest text that reads back as the
 * same double is written instead, never a different value. */
static void
test_to_string_shortest_doubles (void)
{
  static const double values[] = { 0.1, 0.317, 0.1 + 0.2, 1.0 / 3.0, 2.0, -12.5, 1e15, 1234567890123450.0,
                                   123456.789, 5e-324, 1.7976931348623157e308 };
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
  g_autoptr(JsonNode) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    json_array_add_double_element (array, values[i]);
  json_array_add_string_element (array, "0.10000000000000001");
  json_node_set_array (node, array);
  text = odd_json_to_string (node);
  g_assert_cmpstr (text, ==, "[0.1,0.317,0.30000000000000004,0.3333333333333333,2.0,-12.5,1e+15,"
                             "1.23456789012345e+15,123456.789,4.94065645841247e-324,"
                             "1.7976931348623157e+308,\"0.10000000000000001\"]");
  again = odd_json_parse (text, -1, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_assert_cmpfloat (json_array_get_double_element (json_node_get_array (again), i), ==, values[i]);
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
  g_test_add_func ("/json/parse-big-integers", test_parse_big_integers);
  g_test_add_func ("/json/raw", test_raw);
  g_test_add_func ("/json/members-and-shallow", test_members_and_shallow);
  g_test_add_func ("/json/depth", test_depth);
  g_test_add_func ("/json/to-string-exponent", test_to_string_exponent);
  g_test_add_func ("/json/to-string-shortest-doubles", test_to_string_shortest_doubles);
  g_test_add_func ("/json/to-string-unit-separator", test_to_string_unit_separator);
  g_test_add_func ("/json/getters", test_getters);
  g_test_add_func ("/json/array-elements", test_array_elements);

  return g_test_run ();
}

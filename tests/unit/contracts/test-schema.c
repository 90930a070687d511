/* test-schema.c: the draft-07 subset validator and the schema registry */
#define G_LOG_DOMAIN "test-schema"

#include "odd-contracts.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
  char              *dir;
  OddSchemaRegistry *registry;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-schema-XXXXXX", &error);
  g_assert_no_error (error);
  f->registry = odd_schema_registry_new ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_clear_object (&f->registry);
}

static char *
write_schema (Fixture    *f,
              const char *name,
              const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  char *path = g_build_filename (f->dir, file, NULL);

  g_file_set_contents (path, json, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
load (Fixture    *f,
      const char *name,
      const char *json)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = write_schema (f, name, json);

  odd_schema_registry_load_file (f->registry, path, &error);
  g_assert_no_error (error);
}

/* Validates @instance_json against @schema and returns "path|message\n" per error. */
static char *
check (Fixture    *f,
       const char *schema,
       const char *instance_json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) instance = odd_json_parse (instance_json, -1, &error);
  g_autoptr(GPtrArray) errors = NULL;
  GString *out = g_string_new (NULL);

  g_assert_no_error (error);
  errors = odd_schema_registry_validate (f->registry, schema, instance, &error);
  g_assert_no_error (error);
  g_assert_nonnull (errors);
  for (guint i = 0; i < errors->len; i++)
    {
      OddValidationError *e = g_ptr_array_index (errors, i);
      g_string_append_printf (out, "%s|%s\n", e->path, e->message);
    }
  return g_string_free (out, FALSE);
}

#define assert_valid(f, schema, json) \
  G_STMT_START { g_autofree char *_r = check (f, schema, json); g_assert_cmpstr (_r, ==, ""); } G_STMT_END
#define assert_errors(f, schema, json, expected) \
  G_STMT_START { g_autofree char *_r = check (f, schema, json); g_assert_cmpstr (_r, ==, expected); } G_STMT_END

static void
test_type (Fixture       *f,
           gconstpointer  data)
{
  load (f, "s", "{\"type\":\"string\"}");
  load (f, "i", "{\"type\":\"integer\"}");
  load (f, "n", "{\"type\":\"number\"}");
  load (f, "b", "{\"type\":\"boolean\"}");
  load (f, "z", "{\"type\":\"null\"}");
  load (f, "a", "{\"type\":\"array\"}");
  load (f, "o", "{\"type\":\"object\"}");
  load (f, "sn", "{\"type\":[\"string\",\"null\"]}");
  load (f, "sib", "{\"type\":[\"string\",\"integer\",\"boolean\"]}");

  assert_valid (f, "s", "\"x\"");
  assert_errors (f, "s", "1", "|must be string\n");
  assert_valid (f, "i", "3");
  assert_valid (f, "i", "3.0");   /* draft-07: a number with a zero fraction is an integer */
  assert_errors (f, "i", "3.5", "|must be integer\n");
  assert_errors (f, "i", "\"3\"", "|must be integer\n");
  assert_valid (f, "n", "3");
  assert_valid (f, "n", "-3.25e2");
  assert_errors (f, "n", "true", "|must be number\n");
  assert_valid (f, "b", "false");
  assert_errors (f, "b", "0", "|must be boolean\n");
  assert_valid (f, "z", "null");
  assert_errors (f, "z", "{}", "|must be null\n");
  assert_valid (f, "a", "[]");
  assert_errors (f, "a", "{}", "|must be array\n");
  assert_valid (f, "o", "{}");
  assert_errors (f, "o", "[]", "|must be object\n");
  assert_valid (f, "sn", "null");
  assert_valid (f, "sn", "\"x\"");
  assert_errors (f, "sn", "1", "|must be string or null\n");
  assert_errors (f, "sib", "null", "|must be string, integer or boolean\n");
}

static void
test_required_and_properties (Fixture       *f,
                              gconstpointer  data)
{
  load (f, "o", "{\"type\":\"object\",\"required\":[\"a\",\"b\",\"c\"],"
                "\"properties\":{\"a\":{\"type\":\"string\"},"
                "\"inner\":{\"type\":\"object\",\"required\":[\"x\"],"
                "\"properties\":{\"x\":{\"type\":\"integer\"}}}}}");

  assert_valid (f, "o", "{\"a\":\"1\",\"b\":2,\"c\":null,\"extra\":[]}");
  /* Every missing property is reported, in the schema's order. */
  assert_errors (f, "o", "{}",
                 "|must have required property 'a'\n"
                 "|must have required property 'b'\n"
                 "|must have required property 'c'\n");
  assert_errors (f, "o", "{\"a\":1,\"b\":1,\"c\":1,\"inner\":{\"x\":\"no\"}}",
                 "/a|must be string\n"
                 "/inner/x|must be integer\n");
  assert_errors (f, "o", "{\"a\":\"\",\"b\":1,\"c\":1,\"inner\":{}}",
                 "/inner|must have required property 'x'\n");
  /* Keywords for objects ignore other types. */
  load (f, "r", "{\"required\":[\"a\"]}");
  assert_valid (f, "r", "\"a string\"");
}

static void
test_additional_properties (Fixture       *f,
                            gconstpointer  data)
{
  load (f, "closed", "{\"properties\":{\"a\":{}},\"additionalProperties\":false}");
  load (f, "typed", "{\"properties\":{\"a\":{}},\"additionalProperties\":{\"type\":\"integer\"}}");
  load (f, "open", "{\"properties\":{\"a\":{}},\"additionalProperties\":true}");

  assert_valid (f, "closed", "{\"a\":1}");
  assert_errors (f, "closed", "{\"a\":1,\"x\":2,\"y\":3}",
                 "|must NOT have additional property 'x'\n"
                 "|must NOT have additional property 'y'\n");
  assert_valid (f, "typed", "{\"a\":\"s\",\"x\":2}");
  assert_errors (f, "typed", "{\"a\":\"s\",\"x\":\"no\"}", "/x|must be integer\n");
  assert_valid (f, "open", "{\"a\":1,\"x\":2}");
}

static void
test_enum_and_const (Fixture       *f,
                     gconstpointer  data)
{
  load (f, "e", "{\"enum\":[\"A\",\"B\",1,null,{\"k\":[1,2]}]}");
  load (f, "c", "{\"const\":{\"a\":[1,{\"b\":true}]}}");

  assert_valid (f, "e", "\"A\"");
  assert_valid (f, "e", "1.0");
  assert_valid (f, "e", "null");
  assert_valid (f, "e", "{\"k\":[1,2]}");
  assert_errors (f, "e", "\"C\"", "|must be equal to one of the allowed values: A, B, 1, null, {\"k\":[1,2]}\n");
  assert_errors (f, "e", "{\"k\":[2,1]}", "|must be equal to one of the allowed values: A, B, 1, null, {\"k\":[1,2]}\n");
  assert_valid (f, "c", "{\"a\":[1,{\"b\":true}]}");
  assert_errors (f, "c", "{\"a\":[1,{\"b\":false}]}", "|must be equal to constant\n");
  assert_errors (f, "c", "{\"a\":[1,{\"b\":true}],\"x\":1}", "|must be equal to constant\n");
}

static void
test_strings (Fixture       *f,
              gconstpointer  data)
{
  load (f, "len", "{\"minLength\":2,\"maxLength\":3}");
  load (f, "pat", "{\"pattern\":\"[0-9]{2}\"}");
  load (f, "anch", "{\"pattern\":\"^\\\\d+\\\\.\\\\d+\\\\.\\\\d+$\"}");
  load (f, "fmt", "{\"properties\":{\"u\":{\"format\":\"uuid\"},\"t\":{\"format\":\"date-time\"}}}");

  assert_valid (f, "len", "\"ab\"");
  assert_valid (f, "len", "\"été\"");   /* 3 code points, 5 bytes */
  assert_errors (f, "len", "\"a\"", "|must NOT have fewer than 2 characters\n");
  assert_errors (f, "len", "\"abcd\"", "|must NOT have more than 3 characters\n");
  assert_valid (f, "len", "12345");     /* only strings are measured */
  /* pattern is a search, not a full match, as in ECMA-262 */
  assert_valid (f, "pat", "\"ab12cd\"");
  assert_errors (f, "pat", "\"a1b2\"", "|must match pattern \"[0-9]{2}\"\n");
  assert_valid (f, "anch", "\"1.20.3\"");
  assert_errors (f, "anch", "\"1.2\"", "|must match pattern \"^\\d+\\.\\d+\\.\\d+$\"\n");
  /* ECMA-262 semantics: "$" is the very end, not "before a final newline" as in PCRE. */
  assert_errors (f, "anch", "\"1.2.3\\n\"", "|must match pattern \"^\\d+\\.\\d+\\.\\d+$\"\n");
  assert_valid (f, "fmt", "{\"u\":\"3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b\",\"t\":\"2026-01-02T03:04:05Z\"}");
  assert_errors (f, "fmt", "{\"u\":\"3f2b8c1e\",\"t\":\"2026-02-30T03:04:05Z\"}",
                 "/u|must be a valid uuid\n"
                 "/t|must be a valid RFC 3339 date-time\n");
  assert_valid (f, "fmt", "{\"u\":5,\"t\":null}");   /* formats apply to strings only */
}

/* formatMinimum / formatMaximum compare instants: the offset counts, the text does not. */
static void
test_date_range (Fixture       *f,
                 gconstpointer  data)
{
  load (f, "range", "{\"format\":\"date-time\",\"formatMinimum\":\"0001-01-01T00:00:00Z\","
        "\"formatMaximum\":\"9999-12-31T23:59:59.999999Z\"}");

  assert_valid (f, "range", "\"0001-01-01T00:00:00Z\"");
  assert_valid (f, "range", "\"0001-01-01T01:00:00+01:00\"");
  assert_valid (f, "range", "\"9999-12-31T23:59:59.999999Z\"");
  assert_valid (f, "range", "\"9999-12-31T22:59:59-01:00\"");
  assert_errors (f, "range", "\"0000-12-31T23:59:59.999999Z\"", "|must not be before 0001-01-01T00:00:00Z\n");
  assert_errors (f, "range", "\"0001-01-01T00:59:59+01:00\"", "|must not be before 0001-01-01T00:00:00Z\n");
  assert_errors (f, "range", "\"9999-12-31T23:00:00-01:00\"", "|must not be after 9999-12-31T23:59:59.999999Z\n");
  assert_errors (f, "range", "\"9999-12-31T23:59:60Z\"", "|must not be after 9999-12-31T23:59:59.999999Z\n");
  /* not a date-time: the format says so, once */
  assert_errors (f, "range", "\"10000-01-01T00:00:00Z\"", "|must be a valid RFC 3339 date-time\n");
  assert_valid (f, "range", "7");
}

static void
test_numbers (Fixture       *f,
              gconstpointer  data)
{
  load (f, "r", "{\"minimum\":0,\"maximum\":1.5}");

  assert_valid (f, "r", "0");
  assert_valid (f, "r", "1.5");
  assert_errors (f, "r", "-1", "|must be >= 0\n");
  assert_errors (f, "r", "1.75", "|must be <= 1.5\n");
  assert_valid (f, "r", "\"100\"");
}

static void
test_arrays (Fixture       *f,
             gconstpointer  data)
{
  load (f, "a", "{\"type\":\"array\",\"minItems\":1,\"maxItems\":3,\"items\":{\"type\":\"integer\",\"minimum\":0}}");

  assert_valid (f, "a", "[0,1,2]");
  assert_errors (f, "a", "[]", "|must NOT have fewer than 1 items\n");
  assert_errors (f, "a", "[1,2,3,4]", "|must NOT have more than 3 items\n");
  /* Every bad item, each at its own index */
  assert_errors (f, "a", "[1,\"x\",-1]",
                 "/1|must be integer\n"
                 "/2|must be >= 0\n");
}

static void
test_refs (Fixture       *f,
           gconstpointer  data)
{
  load (f, "d", "{\"definitions\":{\"id\":{\"type\":\"string\",\"format\":\"uuid\"},"
                "\"alias\":{\"$ref\":\"#/definitions/id\"}},"
                "\"$defs\":{\"n\":{\"type\":\"integer\"}},"
                "\"properties\":{\"id\":{\"$ref\":\"#/definitions/alias\"},\"n\":{\"$ref\":\"#/$defs/n\"}}}");
  /* A recursive schema: a tree of nodes. */
  load (f, "tree", "{\"type\":\"object\",\"required\":[\"name\"],"
                   "\"properties\":{\"name\":{\"type\":\"string\"},"
                   "\"children\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}");
  /* ~0 and ~1 in a definition name */
  load (f, "esc", "{\"definitions\":{\"a/b~c\":{\"type\":\"null\"}},\"items\":{\"$ref\":\"#/definitions/a~1b~0c\"}}");

  assert_valid (f, "d", "{\"id\":\"3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b\",\"n\":1}");
  assert_errors (f, "d", "{\"id\":\"x\",\"n\":1.5}", "/id|must be a valid uuid\n/n|must be integer\n");
  assert_valid (f, "tree", "{\"name\":\"r\",\"children\":[{\"name\":\"a\"},{\"name\":\"b\",\"children\":[]}]}");
  assert_errors (f, "tree", "{\"name\":\"r\",\"children\":[{\"name\":\"a\",\"children\":[{}]}]}",
                 "/children/0/children/0|must have required property 'name'\n");
  assert_valid (f, "esc", "[null]");
  assert_errors (f, "esc", "[null,1]", "/1|must be null\n");
}

static void
test_boolean_schemas (Fixture       *f,
                      gconstpointer  data)
{
  load (f, "t", "true");
  load (f, "b", "{\"properties\":{\"never\":false,\"any\":true}}");

  assert_valid (f, "t", "[1,{}]");
  assert_valid (f, "b", "{\"any\":[]}");
  assert_errors (f, "b", "{\"never\":1}", "/never|boolean schema is false\n");
}

static void
test_pointer_escaping (Fixture       *f,
                       gconstpointer  data)
{
  load (f, "p", "{\"properties\":{\"a/b\":{\"type\":\"string\"},\"m~n\":{\"type\":\"string\"}},"
                "\"additionalProperties\":{\"type\":\"string\"}}");

  assert_errors (f, "p", "{\"a/b\":1,\"m~n\":2,\"~/\":3}",
                 "/a~1b|must be string\n"
                 "/m~0n|must be string\n"
                 "/~0~1|must be string\n");
}

static void
test_every_error (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddSchemaRegistry) registry = odd_schema_registry_new_default (&error);
  g_autoptr(JsonNode) instance = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(JsonNode) json = NULL;
  g_autofree char *text = NULL;
  g_autofree char *json_text = NULL;

  g_assert_no_error (error);
  instance = odd_json_parse ("{\"contractVersion\":\"1\",\"eventType\":\"job.nope\",\"eventId\":\"x\","
                             "\"occurredAt\":\"today\",\"producer\":{},\"correlationId\":7,"
                             "\"payload\":[]}", -1, &error);
  g_assert_no_error (error);
  errors = odd_schema_registry_validate (registry, "event-envelope", instance, &error);
  g_assert_no_error (error);

  text = odd_validation_errors_to_string (errors);
  g_assert_cmpstr (text, ==,
                   "(root): must have required property 'idempotencyKey'; "
                   "/contractVersion: must match pattern \"^\\d+\\.\\d+\\.\\d+$\"; "
                   "/eventType: must be equal to one of the allowed values: job.created, job.validated, "
                   "job.executed, job.failed, job.completed; "
                   "/eventId: must be a valid uuid; "
                   "/occurredAt: must be a valid RFC 3339 date-time; "
                   "/producer: must have required property 'service'; "
                   "/producer: must have required property 'instanceId'; "
                   "/producer: must have required property 'version'; "
                   "/correlationId: must be string; "
                   "/payload: must be object");

  json = odd_validation_errors_to_json (errors);
  json_text = odd_json_to_string (json);
  g_assert_true (g_str_has_prefix (json_text,
                                   "[{\"path\":\"\",\"message\":\"must have required property 'idempotencyKey'\"},"
                                   "{\"path\":\"/contractVersion\","));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (json)), ==, 10);
}

/* Nested arrays @depth deep around a number, built without the parser. */
static JsonNode *
nested (guint depth)
{
  JsonNode *node = json_node_init_int (json_node_alloc (), 1);

  for (guint i = 0; i < depth; i++)
    {
      JsonArray *array = json_array_new ();
      JsonNode *outer = json_node_alloc ();

      json_array_add_element (array, node);
      node = json_node_init_array (outer, array);
      json_array_unref (array);
    }
  return node;
}

static void
test_depth_limit (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ok = nested (64);
  g_autoptr(JsonNode) deep = nested (65);
  g_autoptr(JsonNode) very_deep = nested (100000);
  g_autoptr(GPtrArray) e1 = NULL;
  g_autoptr(GPtrArray) e2 = NULL;
  g_autoptr(GPtrArray) e3 = NULL;
  g_autoptr(JsonNode) wrapped = NULL;
  g_autoptr(GPtrArray) e4 = NULL;
  g_autofree char *open_text = NULL;
  g_autofree char *close_text = NULL;
  g_autofree char *text = NULL;

  /* Free-form: the validator would not descend, yet the limit still holds. */
  load (f, "any", "{}");
  load (f, "deep", "{\"items\":{\"$ref\":\"#\"}}");

  e1 = odd_schema_registry_validate (f->registry, "deep", ok, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (e1->len, ==, 0);

  e2 = odd_schema_registry_validate (f->registry, "any", deep, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (e2->len, ==, 1);
  g_assert_cmpstr (((OddValidationError *) e2->pdata[0])->message, ==, "must NOT be nested deeper than 64 levels");

  e3 = odd_schema_registry_validate (f->registry, "deep", very_deep, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (e3->len, ==, 1);

  /* Deep objects count too. */
  open_text = g_strnfill (63, '[');
  close_text = g_strnfill (63, ']');
  text = g_strconcat ("{\"a\":{\"b\":", open_text, close_text, "}}", NULL);
  wrapped = odd_json_parse (text, -1, &error);
  g_assert_no_error (error);
  e4 = odd_schema_registry_validate (f->registry, "any", wrapped, &error);
  g_assert_cmpuint (e4->len, ==, 1);
}

static void
expect_invalid (Fixture    *f,
                const char *json,
                const char *message_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddSchemaRegistry) registry = odd_schema_registry_new ();
  g_autofree char *path = write_schema (f, "bad", json);

  g_assert_false (odd_schema_registry_load_file (registry, path, &error));
  g_assert_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_INVALID);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, message_part));
  g_assert_false (odd_schema_registry_has (registry, "bad"));
}

static void
test_invalid_schemas (Fixture       *f,
                      gconstpointer  data)
{
  expect_invalid (f, "{\"anyOf\":[{}]}", "keyword 'anyOf' is not supported");
  expect_invalid (f, "{\"properties\":{\"a\":{\"requried\":[]}}}", "#/properties/a: keyword 'requried'");
  expect_invalid (f, "{\"pattern\":\"([a-z\"}", "bad 'pattern'");
  expect_invalid (f, "{\"$ref\":\"other.json#/x\"}", "only local $ref");
  expect_invalid (f, "{\"$ref\":\"#/definitions/missing\"}", "$ref target does not exist");
  expect_invalid (f, "{\"definitions\":{\"a\":{\"$ref\":\"#/definitions/b\"},\"b\":{\"$ref\":\"#/definitions/a\"}},"
                  "\"$ref\":\"#/definitions/a\"}", "loops");
  expect_invalid (f, "{\"format\":\"email\"}", "unsupported format 'email'");
  expect_invalid (f, "{\"formatMinimum\":\"yesterday\"}", "'formatMinimum' must be an RFC 3339 date-time");
  expect_invalid (f, "{\"formatMaximum\":3}", "'formatMaximum' must be an RFC 3339 date-time");
  expect_invalid (f, "{\"type\":\"text\"}", "unknown type 'text'");
  expect_invalid (f, "{\"type\":[]}", "'type' must be");
  expect_invalid (f, "{\"minLength\":-1}", "non-negative integer");
  expect_invalid (f, "{\"enum\":[]}", "non-empty array");
  expect_invalid (f, "{\"items\":[{}]}", "tuple");
  expect_invalid (f, "{\"required\":[1]}", "array of strings");
  expect_invalid (f, "[1]", "object or a boolean");
  expect_invalid (f, "{\"definitions\":{\"x\":{\"oneOf\":[]}}}", "#/definitions/x");
  expect_invalid (f, "{\"properties\":{\"a\":{\"$ref\":\"#/definitions/b\",\"type\":\"string\"}},"
                  "\"definitions\":{\"b\":{}}}", "'type' next to $ref");
  expect_invalid (f, "{not json", "");
}

static void
test_registry_lookup (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(JsonNode) instance = json_node_init_int (json_node_alloc (), 1);
  JsonNode *schema;

  load (f, "num", "{\"$id\":\"https://x.test/num.json\",\"$version\":\"1.2.3\",\"type\":\"integer\"}");

  g_assert_true (odd_schema_registry_has (f->registry, "num"));
  g_assert_true (odd_schema_registry_has (f->registry, "num.json"));
  g_assert_true (odd_schema_registry_has (f->registry, "https://x.test/num.json"));
  g_assert_false (odd_schema_registry_has (f->registry, "nom"));

  schema = odd_schema_registry_get_schema (f->registry, "https://x.test/num.json");
  g_assert_nonnull (schema);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (schema), "$version"), ==, "1.2.3");
  g_assert_null (odd_schema_registry_get_schema (f->registry, "nom"));

  errors = odd_schema_registry_validate (f->registry, "https://x.test/num.json", instance, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (errors->len, ==, 0);
  g_clear_pointer (&errors, g_ptr_array_unref);

  errors = odd_schema_registry_validate (f->registry, "nom", instance, &error);
  g_assert_null (errors);
  g_assert_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND);
}

static void
test_registry_errors (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddSchemaRegistry) empty = odd_schema_registry_new ();
  g_autoptr(OddSchemaRegistry) dup = odd_schema_registry_new ();
  g_autofree char *missing = g_build_filename (f->dir, "nope", NULL);
  g_autofree char *missing_file = g_build_filename (f->dir, "nope.json", NULL);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  g_assert_false (odd_schema_registry_load_dir (empty, missing, &error));
  g_assert_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "CONTRACTS_PATH"));
  g_clear_error (&error);

  g_assert_false (odd_schema_registry_load_dir (empty, f->dir, &error));   /* no *.json yet */
  g_assert_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (odd_schema_registry_load_file (empty, missing_file, &error));
  g_assert_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND);
  g_clear_error (&error);

  a = write_schema (f, "first", "{\"$id\":\"https://x.test/s.json\",\"type\":\"integer\"}");
  b = write_schema (f, "second", "{\"$id\":\"https://x.test/s.json\"}");
  g_assert_false (odd_schema_registry_load_dir (dup, f->dir, &error));
  g_assert_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "already used"));
}

static void
test_contracts_dir (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("CONTRACTS_PATH"));
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(OddSchemaRegistry) registry = NULL;

  g_setenv ("CONTRACTS_PATH", "/nonexistent/contracts", TRUE);
  dir = odd_contracts_dir ();
  g_assert_cmpstr (dir, ==, "/nonexistent/contracts");
  registry = odd_schema_registry_new_default (&error);
  g_assert_null (registry);
  g_assert_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/contracts/schemas"));
  g_clear_error (&error);
  g_clear_pointer (&dir, g_free);

  /* Unset: the installed data dir if present, else the source tree; either has the schemas. */
  g_unsetenv ("CONTRACTS_PATH");
  dir = odd_contracts_dir ();
  g_assert_true (g_str_has_suffix (dir, "/contracts"));
  registry = odd_schema_registry_new_default (&error);
  g_assert_no_error (error);
  g_assert_true (odd_schema_registry_has (registry, "job"));

  if (saved != NULL)
    g_setenv ("CONTRACTS_PATH", saved, TRUE);
}

typedef struct {
  OddSchemaRegistry *registry;
  JsonNode          *good;
  JsonNode          *bad;
  guint              failures;
} ThreadData;

static gpointer
validate_thread (gpointer data)
{
  ThreadData *td = data;

  for (guint i = 0; i < 2000; i++)
    {
      g_autoptr(GPtrArray) good = odd_schema_registry_validate (td->registry, "event-envelope", td->good, NULL);
      g_autoptr(GPtrArray) bad = odd_schema_registry_validate (td->registry, "event-envelope", td->bad, NULL);

      if (good == NULL || good->len != 0 || bad == NULL || bad->len != 3)
        td->failures++;
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(OddSchemaRegistry) registry = odd_schema_registry_new_default (&error);
  g_autoptr(JsonNode) good = NULL;
  g_autoptr(JsonNode) bad = NULL;
  OddProducer producer = { "test", "t-1", "0.0.0" };
  ThreadData data[4];
  GThread *threads[4];
  g_autoptr(JsonNode) payload = odd_json_parse ("{\"id\":\"3f2b8c1e-9a4d-4e7b-8c21-5d6e7f809a1b\",\"type\":\"t\","
                                                "\"status\":\"PENDING\",\"createdAt\":\"2026-01-02T03:04:05Z\"}",
                                                -1, NULL);

  g_assert_no_error (error);
  good = odd_envelope_new ("job.created", NULL, NULL, &producer, NULL, NULL, payload);
  bad = odd_json_parse ("{\"contractVersion\":\"x\",\"eventType\":\"job.created\",\"eventId\":\"nope\","
                        "\"occurredAt\":\"2026-01-02T03:04:05Z\",\"producer\":{\"service\":\"a\",\"instanceId\":\"b\","
                        "\"version\":\"c\"},\"correlationId\":\"c0ffee00-1234-4abc-8def-0123456789ab\","
                        "\"idempotencyKey\":\"k\"}", -1, NULL);
  json_node_seal (good);
  json_node_seal (bad);

  for (guint i = 0; i < 4; i++)
    {
      data[i] = (ThreadData) { registry, good, bad, 0 };
      threads[i] = g_thread_new ("validate", validate_thread, &data[i]);
    }
  for (guint i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpuint (data[i].failures, ==, 0);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add ("/schema/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("type", test_type);
  ADD ("required-and-properties", test_required_and_properties);
  ADD ("additional-properties", test_additional_properties);
  ADD ("enum-and-const", test_enum_and_const);
  ADD ("strings", test_strings);
  ADD ("date-range", test_date_range);
  ADD ("numbers", test_numbers);
  ADD ("arrays", test_arrays);
  ADD ("refs", test_refs);
  ADD ("boolean-schemas", test_boolean_schemas);
  ADD ("pointer-escaping", test_pointer_escaping);
  ADD ("every-error", test_every_error);
  ADD ("depth-limit", test_depth_limit);
  ADD ("invalid-schemas", test_invalid_schemas);
  ADD ("registry-lookup", test_registry_lookup);
  ADD ("registry-errors", test_registry_errors);
#undef ADD
  g_test_add_func ("/schema/contracts-dir", test_contracts_dir);
  g_test_add_func ("/schema/threads", test_threads);

  return g_test_run ();
}

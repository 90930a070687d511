/* odd-schema.c: JSON Schema (draft-07 subset) registry and validator
 *
 * Each schema file is compiled once, at load, into a tree of SchemaNode with everything a
 * check needs already prepared (type masks, compiled regexes, enum messages). Validation then
 * walks that tree and the instance together and allocates only for the errors it reports, so
 * the gateway can validate every request on its one thread.
 */
#define G_LOG_DOMAIN "odd-schema"

#include "odd-schema.h"
#include "odd-ids.h"
#include "odd-build-config.h"

#include <math.h>
#include <string.h>

/* Instances nested deeper than this are refused before validation starts, which also bounds
 * the validator's recursion. */
#define MAX_INSTANCE_DEPTH 64
/* A chain of $ref that never reaches a real schema is a broken schema, not an endless loop. */
#define MAX_REF_CHAIN 64

G_DEFINE_QUARK (odd-schema-error-quark, odd_schema_error)

typedef enum {
  TYPE_NULL    = 1 << 0,
  TYPE_BOOLEAN = 1 << 1,
  TYPE_OBJECT  = 1 << 2,
  TYPE_ARRAY   = 1 << 3,
  TYPE_NUMBER  = 1 << 4,
  TYPE_STRING  = 1 << 5,
  TYPE_INTEGER = 1 << 6,
} TypeMask;

static const struct {
  const char *name;
  TypeMask    mask;
} type_names[] = {
  { "null", TYPE_NULL },
  { "boolean", TYPE_BOOLEAN },
  { "object", TYPE_OBJECT },
  { "array", TYPE_ARRAY },
  { "number", TYPE_NUMBER },
  { "string", TYPE_STRING },
  { "integer", TYPE_INTEGER },
};

typedef enum {
  FORMAT_NONE,
  FORMAT_UUID,
  FORMAT_DATE_TIME,
} Format;

typedef enum {
  ADDITIONAL_ANY,
  ADDITIONAL_FORBIDDEN,
  ADDITIONAL_SCHEMA,
} Additional;

typedef struct _SchemaNode SchemaNode;

typedef struct {
  char       *name;
  SchemaNode *schema;
} Property;

struct _SchemaNode {
  SchemaNode  *ref;              /* non-NULL: this node is a $ref, its siblings are ignored */
  char        *ref_pointer;      /* the $ref text, until it is resolved */
  gboolean     is_false;         /* the boolean schema `false` */

  guint        types;            /* TypeMask; 0 = any type */
  char        *type_message;

  char       **required;

  Property    *properties;
  guint        n_properties;
  GHashTable  *property_index;   /* name → SchemaNode, for additionalProperties */
  Additional   additional;
  SchemaNode  *additional_schema;

  JsonNode   **enum_values;
  guint        n_enum;
  char        *enum_message;

  JsonNode    *const_value;

  GRegex      *pattern;
  char        *pattern_message;

  Format       format;

  gint64       min_length;       /* -1 = none, as for every limit below */
  gint64       max_length;
  gint64       min_items;
  gint64       max_items;

  gboolean     has_minimum;
  gboolean     has_maximum;
  double       minimum;
  double       maximum;
  char        *minimum_message;
  char        *maximum_message;

  /* formatMinimum / formatMaximum of a date-time: instants in µs since the epoch */
  gboolean     has_format_minimum;
  gboolean     has_format_maximum;
  gint64       format_minimum;
  gint64       format_maximum;
  char        *format_minimum_message;
  char        *format_maximum_message;

  SchemaNode  *items;
};

typedef struct {
  char       *name;      /* file stem */
  char       *id;        /* $id, may be NULL */
  char       *path;
  JsonNode   *document;  /* sealed */
  SchemaNode *root;
  GPtrArray  *nodes;     /* owns every SchemaNode of this schema */
} Schema;

struct _OddSchemaRegistry
{
  GObject     parent_instance;

  GPtrArray  *schemas;   /* owns Schema */
  GHashTable *by_name;   /* stem and $id → Schema */
};

G_DEFINE_FINAL_TYPE (OddSchemaRegistry, odd_schema_registry, G_TYPE_OBJECT)

/* Keywords that carry no validation. */
static const char *annotation_keywords[] = {
  "$schema", "$id", "$version", "$comment", "title", "description", "default", "examples",
  "readOnly", "writeOnly", "definitions", "$defs", NULL
};

static void
schema_node_free (SchemaNode *node)
{
  g_free (node->ref_pointer);
  g_free (node->type_message);
  g_strfreev (node->required);
  for (guint i = 0; i < node->n_properties; i++)
    g_free (node->properties[i].name);
  g_free (node->properties);
  g_clear_pointer (&node->property_index, g_hash_table_unref);
  for (guint i = 0; i < node->n_enum; i++)
    json_node_unref (node->enum_values[i]);
  g_free (node->enum_values);
  g_free (node->enum_message);
  g_clear_pointer (&node->const_value, json_node_unref);
  g_clear_pointer (&node->pattern, g_regex_unref);
  g_free (node->pattern_message);
  g_free (node->minimum_message);
  g_free (node->maximum_message);
  g_free (node->format_minimum_message);
  g_free (node->format_maximum_message);
  g_free (node);
}

static void
schema_free (Schema *schema)
{
  g_free (schema->name);
  g_free (schema->id);
  g_free (schema->path);
  g_clear_pointer (&schema->document, json_node_unref);
  g_clear_pointer (&schema->nodes, g_ptr_array_unref);
  g_free (schema);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Schema, schema_free)

void
odd_validation_error_free (OddValidationError *error)
{
  if (error == NULL)
    return;
  g_free (error->path);
  g_free (error->message);
  g_free (error);
}

/* ---- JSON helpers shared by compile and validate ---- */

static guint
instance_type (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
    case JSON_NODE_OBJECT:
      return TYPE_OBJECT;
    case JSON_NODE_ARRAY:
      return TYPE_ARRAY;
    case JSON_NODE_NULL:
      return TYPE_NULL;
    case JSON_NODE_VALUE:
    default:
      break;
    }

  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return TYPE_STRING;
    case G_TYPE_BOOLEAN:
      return TYPE_BOOLEAN;
    case G_TYPE_INT64:
      return TYPE_NUMBER | TYPE_INTEGER;
    case G_TYPE_DOUBLE:
      {
        /* JSON Schema: 1.0 is an integer too. */
        double d = json_node_get_double (node);
        return isfinite (d) && floor (d) == d ? TYPE_NUMBER | TYPE_INTEGER : TYPE_NUMBER;
      }
    default:
      return 0;
    }
}

static double
number_value (JsonNode *node)
{
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return (double) json_node_get_int (node);
  return json_node_get_double (node);
}

/* Structural equality as JSON Schema means it: 1 and 1.0 are equal, member order is not. */
static gboolean
json_equal (JsonNode *a,
            JsonNode *b)
{
  guint ta = instance_type (a);
  guint tb = instance_type (b);

  if ((ta & TYPE_NUMBER) && (tb & TYPE_NUMBER))
    return number_value (a) == number_value (b);
  if (ta != tb)
    return FALSE;

  switch (ta)
    {
    case TYPE_NULL:
      return TRUE;
    case TYPE_BOOLEAN:
      return json_node_get_boolean (a) == json_node_get_boolean (b);
    case TYPE_STRING:
      return g_strcmp0 (json_node_get_string (a), json_node_get_string (b)) == 0;
    case TYPE_ARRAY:
      {
        JsonArray *xa = json_node_get_array (a);
        JsonArray *xb = json_node_get_array (b);
        guint n = json_array_get_length (xa);

        if (n != json_array_get_length (xb))
          return FALSE;
        for (guint i = 0; i < n; i++)
          if (!json_equal (json_array_get_element (xa, i), json_array_get_element (xb, i)))
            return FALSE;
        return TRUE;
      }
    case TYPE_OBJECT:
      {
        JsonObject *oa = json_node_get_object (a);
        JsonObject *ob = json_node_get_object (b);
        JsonObjectIter iter;
        const char *name;
        JsonNode *member;

        if (json_object_get_size (oa) != json_object_get_size (ob))
          return FALSE;
        json_object_iter_init (&iter, oa);
        while (json_object_iter_next (&iter, &name, &member))
          {
            JsonNode *other = json_object_get_member (ob, name);
            if (other == NULL || !json_equal (member, other))
              return FALSE;
          }
        return TRUE;
      }
    default:
      return FALSE;
    }
}

static char *
json_short_text (JsonNode *node)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return json_to_string (node, FALSE);
}

static char *
number_text (JsonNode *node)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  return g_strdup (g_ascii_dtostr (buf, sizeof buf, json_node_get_double (node)));
}

/* RFC 6901: '~' → "~0", '/' → "~1". */
static void
append_pointer_token (GString    *pointer,
                      const char *token)
{
  g_string_append_c (pointer, '/');
  for (const char *p = token; *p != '\0'; p++)
    {
      if (*p == '~')
        g_string_append (pointer, "~0");
      else if (*p == '/')
        g_string_append (pointer, "~1");
      else
        g_string_append_c (pointer, *p);
    }
}

/* ---- compilation ---- */

typedef struct {
  Schema     *schema;
  GHashTable *by_pointer;  /* schema JSON pointer → SchemaNode, so each $ref target compiles once */
  GPtrArray  *pending;     /* SchemaNode with an unresolved ref_pointer */
} Compiler;

static SchemaNode *compile_node (Compiler    *compiler,
                                 JsonNode    *json,
                                 const char  *pointer,
                                 GError     **error);

static gboolean
invalid (GError     **error,
         Compiler    *compiler,
         const char  *pointer,
         const char  *format,
         ...) G_GNUC_PRINTF (4, 5);

static gboolean
invalid (GError     **error,
         Compiler    *compiler,
         const char  *pointer,
         const char  *format,
         ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_INVALID,
               "%s: #%s: %s", compiler->schema->path, pointer, message);
  return FALSE;
}

static gboolean
get_limit (Compiler    *compiler,
           JsonNode    *value,
           const char  *pointer,
           const char  *keyword,
           gint64      *limit,
           GError     **error)
{
  if (!(instance_type (value) & TYPE_INTEGER) || number_value (value) < 0)
    return invalid (error, compiler, pointer, "'%s' must be a non-negative integer", keyword);
  *limit = (gint64) number_value (value);
  return TRUE;
}

static gboolean
compile_type (Compiler    *compiler,
              SchemaNode  *node,
              JsonNode    *value,
              const char  *pointer,
              GError     **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  GString *message;

  if (instance_type (value) == TYPE_STRING)
    {
      g_ptr_array_add (names, (gpointer) json_node_get_string (value));
    }
  else if (instance_type (value) == TYPE_ARRAY && json_array_get_length (json_node_get_array (value)) > 0)
    {
      JsonArray *array = json_node_get_array (value);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          if (instance_type (element) != TYPE_STRING)
            return invalid (error, compiler, pointer, "'type' must hold strings");
          g_ptr_array_add (names, (gpointer) json_node_get_string (element));
        }
    }
  else
    {
      return invalid (error, compiler, pointer, "'type' must be a string or a non-empty array");
    }

  message = g_string_new ("must be ");
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      gboolean known = FALSE;

      for (guint t = 0; t < G_N_ELEMENTS (type_names); t++)
        if (strcmp (name, type_names[t].name) == 0)
          {
            node->types |= type_names[t].mask;
            known = TRUE;
          }
      if (!known)
        {
          g_string_free (message, TRUE);
          return invalid (error, compiler, pointer, "unknown type '%s'", name);
        }
      if (i > 0)
        g_string_append (message, i + 1 == names->len ? " or " : ", ");
      g_string_append (message, name);
    }
  node->type_message = g_string_free (message, FALSE);
  return TRUE;
}

static gboolean
compile_properties (Compiler    *compiler,
                    SchemaNode  *node,
                    JsonNode    *value,
                    const char  *pointer,
                    GError     **error)
{
  JsonObject *object;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;
  guint i = 0;

  if (instance_type (value) != TYPE_OBJECT)
    return invalid (error, compiler, pointer, "'properties' must be an object");

  object = json_node_get_object (value);
  node->n_properties = json_object_get_size (object);
  node->properties = g_new0 (Property, node->n_properties);
  node->property_index = g_hash_table_new (g_str_hash, g_str_equal);

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      g_autoptr(GString) child = g_string_new (pointer);

      append_pointer_token (child, "properties");
      append_pointer_token (child, name);
      node->properties[i].name = g_strdup (name);
      node->properties[i].schema = compile_node (compiler, member, child->str, error);
      if (node->properties[i].schema == NULL)
        {
          node->n_properties = i + 1;
          return FALSE;
        }
      g_hash_table_insert (node->property_index, node->properties[i].name, node->properties[i].schema);
      i++;
    }

  return TRUE;
}

static gboolean
compile_enum (Compiler    *compiler,
              SchemaNode  *node,
              JsonNode    *value,
              const char  *pointer,
              GError     **error)
{
  JsonArray *array;
  GString *message;

  if (instance_type (value) != TYPE_ARRAY || json_array_get_length (json_node_get_array (value)) == 0)
    return invalid (error, compiler, pointer, "'enum' must be a non-empty array");

  array = json_node_get_array (value);
  node->n_enum = json_array_get_length (array);
  node->enum_values = g_new0 (JsonNode *, node->n_enum);
  message = g_string_new ("must be equal to one of the allowed values: ");
  for (guint i = 0; i < node->n_enum; i++)
    {
      g_autofree char *text = NULL;

      node->enum_values[i] = json_node_ref (json_array_get_element (array, i));
      text = json_short_text (node->enum_values[i]);
      if (i > 0)
        g_string_append (message, ", ");
      g_string_append (message, text);
    }
  node->enum_message = g_string_free (message, FALSE);
  return TRUE;
}

static gboolean
compile_keyword (Compiler    *compiler,
                 SchemaNode  *node,
                 const char  *keyword,
                 JsonNode    *value,
                 const char  *pointer,
                 GError     **error)
{
  guint vt = instance_type (value);

  if (strcmp (keyword, "type") == 0)
    return compile_type (compiler, node, value, pointer, error);

  if (strcmp (keyword, "required") == 0)
    {
      JsonArray *array;
      GPtrArray *names;

      if (vt != TYPE_ARRAY)
        return invalid (error, compiler, pointer, "'required' must be an array of strings");
      array = json_node_get_array (value);
      names = g_ptr_array_new ();
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          if (instance_type (element) != TYPE_STRING)
            {
              g_ptr_array_add (names, NULL);
              g_strfreev ((char **) g_ptr_array_free (names, FALSE));
              return invalid (error, compiler, pointer, "'required' must be an array of strings");
            }
          g_ptr_array_add (names, g_strdup (json_node_get_string (element)));
        }
      g_ptr_array_add (names, NULL);
      node->required = (char **) g_ptr_array_free (names, FALSE);
      return TRUE;
    }

  if (strcmp (keyword, "properties") == 0)
    return compile_properties (compiler, node, value, pointer, error);

  if (strcmp (keyword, "additionalProperties") == 0)
    {
      g_autoptr(GString) child = NULL;

      if (vt == TYPE_BOOLEAN)
        {
          node->additional = json_node_get_boolean (value) ? ADDITIONAL_ANY : ADDITIONAL_FORBIDDEN;
          return TRUE;
        }
      child = g_string_new (pointer);
      append_pointer_token (child, keyword);
      node->additional = ADDITIONAL_SCHEMA;
      node->additional_schema = compile_node (compiler, value, child->str, error);
      return node->additional_schema != NULL;
    }

  if (strcmp (keyword, "items") == 0)
    {
      g_autoptr(GString) child = NULL;

      if (vt == TYPE_ARRAY)
        return invalid (error, compiler, pointer, "tuple 'items' (an array) is not supported");
      child = g_string_new (pointer);
      append_pointer_token (child, keyword);
      node->items = compile_node (compiler, value, child->str, error);
      return node->items != NULL;
    }

  if (strcmp (keyword, "enum") == 0)
    return compile_enum (compiler, node, value, pointer, error);

  if (strcmp (keyword, "const") == 0)
    {
      node->const_value = json_node_ref (value);
      return TRUE;
    }

  if (strcmp (keyword, "pattern") == 0)
    {
      g_autoptr(GError) regex_error = NULL;

      if (vt != TYPE_STRING)
        return invalid (error, compiler, pointer, "'pattern' must be a string");
      /* Compiled once here; GRegex is immutable, so matching is safe from any thread.
       * DOLLAR_ENDONLY: as in ECMA-262, "$" must not match before a trailing newline
       * (PCRE's default would accept "1.0.0\n" for ^\d+\.\d+\.\d+$). */
      node->pattern = g_regex_new (json_node_get_string (value), G_REGEX_OPTIMIZE | G_REGEX_DOLLAR_ENDONLY, 0,
                                   &regex_error);
      if (node->pattern == NULL)
        return invalid (error, compiler, pointer, "bad 'pattern': %s", regex_error->message);
      node->pattern_message = g_strdup_printf ("must match pattern \"%s\"", json_node_get_string (value));
      return TRUE;
    }

  if (strcmp (keyword, "format") == 0)
    {
      const char *format = vt == TYPE_STRING ? json_node_get_string (value) : "";

      if (strcmp (format, "uuid") == 0)
        node->format = FORMAT_UUID;
      else if (strcmp (format, "date-time") == 0)
        node->format = FORMAT_DATE_TIME;
      else
        /* An ignored format would look enforced while it is not. */
        return invalid (error, compiler, pointer, "unsupported format '%s' (known: uuid, date-time)", format);
      return TRUE;
    }

  if (strcmp (keyword, "minLength") == 0)
    return get_limit (compiler, value, pointer, keyword, &node->min_length, error);
  if (strcmp (keyword, "maxLength") == 0)
    return get_limit (compiler, value, pointer, keyword, &node->max_length, error);
  if (strcmp (keyword, "minItems") == 0)
    return get_limit (compiler, value, pointer, keyword, &node->min_items, error);
  if (strcmp (keyword, "maxItems") == 0)
    return get_limit (compiler, value, pointer, keyword, &node->max_items, error);

  if (strcmp (keyword, "minimum") == 0 || strcmp (keyword, "maximum") == 0)
    {
      g_autofree char *text = NULL;
      gboolean is_min = keyword[1] == 'i';

      if (!(vt & TYPE_NUMBER))
        return invalid (error, compiler, pointer, "'%s' must be a number", keyword);
      text = number_text (value);
      if (is_min)
        {
          node->has_minimum = TRUE;
          node->minimum = number_value (value);
          node->minimum_message = g_strdup_printf ("must be >= %s", text);
        }
      else
        {
          node->has_maximum = TRUE;
          node->maximum = number_value (value);
          node->maximum_message = g_strdup_printf ("must be <= %s", text);
        }
      return TRUE;
    }

  /* ajv-formats' keywords: the range of a date-time, compared as instants (offsets count). */
  if (strcmp (keyword, "formatMinimum") == 0 || strcmp (keyword, "formatMaximum") == 0)
    {
      gboolean is_min = keyword[6] == 'M' && keyword[7] == 'i';
      gint64 instant;

      if (vt != TYPE_STRING || !odd_time_parse_rfc3339 (json_node_get_string (value), &instant))
        return invalid (error, compiler, pointer, "'%s' must be an RFC 3339 date-time", keyword);
      if (is_min)
        {
          node->has_format_minimum = TRUE;
          node->format_minimum = instant;
          node->format_minimum_message = g_strdup_printf ("must not be before %s", json_node_get_string (value));
        }
      else
        {
          node->has_format_maximum = TRUE;
          node->format_maximum = instant;
          node->format_maximum_message = g_strdup_printf ("must not be after %s", json_node_get_string (value));
        }
      return TRUE;
    }

  if (g_strv_contains (annotation_keywords, keyword) || g_str_has_prefix (keyword, "x-"))
    return TRUE;

  /* Strict, like ajv's strict mode: a typo or an unsupported keyword would silently
   * validate nothing. */
  return invalid (error, compiler, pointer, "keyword '%s' is not supported (see odd-schema.h)", keyword);
}

static gboolean
compile_definitions (Compiler    *compiler,
                     JsonObject  *object,
                     const char  *keyword,
                     const char  *pointer,
                     GError     **error)
{
  JsonNode *value = json_object_get_member (object, keyword);
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (value == NULL)
    return TRUE;
  if (instance_type (value) != TYPE_OBJECT)
    return invalid (error, compiler, pointer, "'%s' must be an object", keyword);

  /* Compiled even when unused, so a broken definition is reported at load. */
  json_object_iter_init_ordered (&iter, json_node_get_object (value));
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      g_autoptr(GString) child = g_string_new (pointer);

      append_pointer_token (child, keyword);
      append_pointer_token (child, name);
      if (compile_node (compiler, member, child->str, error) == NULL)
        return FALSE;
    }
  return TRUE;
}

static SchemaNode *
compile_node (Compiler    *compiler,
              JsonNode    *json,
              const char  *pointer,
              GError     **error)
{
  SchemaNode *node;
  JsonObject *object;
  JsonObjectIter iter;
  const char *keyword;
  JsonNode *value;

  node = g_hash_table_lookup (compiler->by_pointer, pointer);
  if (node != NULL)
    return node;

  node = g_new0 (SchemaNode, 1);
  node->min_length = node->max_length = node->min_items = node->max_items = -1;
  g_ptr_array_add (compiler->schema->nodes, node);
  g_hash_table_insert (compiler->by_pointer, g_strdup (pointer), node);

  if (instance_type (json) == TYPE_BOOLEAN)
    {
      node->is_false = !json_node_get_boolean (json);
      return node;
    }
  if (instance_type (json) != TYPE_OBJECT)
    {
      invalid (error, compiler, pointer, "a schema must be an object or a boolean");
      return NULL;
    }

  object = json_node_get_object (json);

  value = json_object_get_member (object, "$ref");
  if (value != NULL)
    {
      if (instance_type (value) != TYPE_STRING || json_node_get_string (value)[0] != '#')
        {
          invalid (error, compiler, pointer, "only local $ref (\"#/definitions/name\") is supported");
          return NULL;
        }
      /* draft-07 ignores the siblings of $ref; a constraint there would look enforced. */
      json_object_iter_init_ordered (&iter, object);
      while (json_object_iter_next_ordered (&iter, &keyword, &value))
        if (strcmp (keyword, "$ref") != 0 && !g_strv_contains (annotation_keywords, keyword) &&
            !g_str_has_prefix (keyword, "x-"))
          {
            invalid (error, compiler, pointer,
                     "'%s' next to $ref is ignored by draft-07: move it into the referenced schema", keyword);
            return NULL;
          }
      node->ref_pointer = g_strdup (json_node_get_string (value) + 1);
      g_ptr_array_add (compiler->pending, node);
    }
  else
    {
      json_object_iter_init_ordered (&iter, object);
      while (json_object_iter_next_ordered (&iter, &keyword, &value))
        if (!compile_keyword (compiler, node, keyword, value, pointer, error))
          return NULL;
    }

  if (!compile_definitions (compiler, object, "definitions", pointer, error) ||
      !compile_definitions (compiler, object, "$defs", pointer, error))
    return NULL;

  return node;
}

/* Finds the JSON node a pointer names inside @root ("" = @root). */
static JsonNode *
resolve_pointer (JsonNode   *root,
                 const char *pointer)
{
  g_auto(GStrv) tokens = NULL;
  JsonNode *current = root;

  if (*pointer == '\0')
    return root;
  if (*pointer != '/')
    return NULL;

  tokens = g_strsplit (pointer + 1, "/", -1);
  for (guint i = 0; tokens[i] != NULL && current != NULL; i++)
    {
      g_autoptr(GString) token = g_string_new (NULL);

      for (const char *p = tokens[i]; *p != '\0'; p++)
        {
          if (p[0] == '~' && (p[1] == '0' || p[1] == '1'))
            {
              g_string_append_c (token, p[1] == '0' ? '~' : '/');
              p++;
            }
          else
            {
              g_string_append_c (token, *p);
            }
        }

      if (JSON_NODE_HOLDS_OBJECT (current))
        {
          current = json_object_get_member (json_node_get_object (current), token->str);
        }
      else if (JSON_NODE_HOLDS_ARRAY (current))
        {
          char *end = NULL;
          guint64 index = g_ascii_strtoull (token->str, &end, 10);
          JsonArray *array = json_node_get_array (current);

          if (token->len == 0 || *end != '\0' || index >= json_array_get_length (array))
            return NULL;
          current = json_array_get_element (array, (guint) index);
        }
      else
        {
          return NULL;
        }
    }

  return current;
}

static gboolean
resolve_refs (Compiler  *compiler,
              GError   **error)
{
  /* Resolving can compile new targets, which can add to the pending list. */
  for (guint i = 0; i < compiler->pending->len; i++)
    {
      SchemaNode *node = g_ptr_array_index (compiler->pending, i);
      JsonNode *target = resolve_pointer (compiler->schema->document, node->ref_pointer);

      if (target == NULL)
        return invalid (error, compiler, node->ref_pointer, "$ref target does not exist");
      node->ref = compile_node (compiler, target, node->ref_pointer, error);
      if (node->ref == NULL)
        return FALSE;
    }

  for (guint i = 0; i < compiler->pending->len; i++)
    {
      SchemaNode *node = g_ptr_array_index (compiler->pending, i);
      guint hops = 0;

      while (node->ref != NULL && hops < MAX_REF_CHAIN)
        {
          node = node->ref;
          hops++;
        }
      if (node->ref != NULL)
        return invalid (error, compiler, ((SchemaNode *) g_ptr_array_index (compiler->pending, i))->ref_pointer,
                        "$ref chain loops without reaching a schema");
    }

  return TRUE;
}

static Schema *
schema_compile (const char  *path,
                JsonNode    *document,
                GError     **error)
{
  g_autoptr(Schema) schema = g_new0 (Schema, 1);
  g_autofree char *basename = g_path_get_basename (path);
  Compiler compiler = { schema, NULL, NULL };
  gboolean ok;

  schema->path = g_strdup (path);
  schema->name = g_str_has_suffix (basename, ".json")
                 ? g_strndup (basename, strlen (basename) - 5)
                 : g_strdup (basename);
  schema->document = json_node_ref (document);
  json_node_seal (schema->document);
  schema->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) schema_node_free);

  if (JSON_NODE_HOLDS_OBJECT (document))
    {
      JsonObject *object = json_node_get_object (document);
      JsonNode *id = json_object_get_member (object, "$id");

      if (id != NULL && instance_type (id) == TYPE_STRING)
        schema->id = g_strdup (json_node_get_string (id));
    }

  compiler.by_pointer = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  compiler.pending = g_ptr_array_new ();
  schema->root = compile_node (&compiler, document, "", error);
  ok = schema->root != NULL && resolve_refs (&compiler, error);
  g_hash_table_unref (compiler.by_pointer);
  g_ptr_array_unref (compiler.pending);

  if (!ok)
    return NULL;
  return g_steal_pointer (&schema);
}

/* ---- validation ---- */

/* The instance path being checked. It starts on the stack and only moves to the heap for
 * unusually deep or long paths, so a valid instance costs no allocation for it. */
typedef struct {
  char   stack[256];
  char  *str;
  gsize  len;
  gsize  allocated;
} Path;

typedef struct {
  Path       path;
  GPtrArray *errors;
} Validation;

static void
path_reserve (Path  *path,
              gsize  extra)
{
  if (path->len + extra + 1 <= path->allocated)
    return;

  while (path->len + extra + 1 > path->allocated)
    path->allocated *= 2;
  if (path->str == path->stack)
    {
      path->str = g_malloc (path->allocated);
      memcpy (path->str, path->stack, path->len + 1);
    }
  else
    {
      path->str = g_realloc (path->str, path->allocated);
    }
}

static gsize
path_push_name (Path       *path,
                const char *name)
{
  gsize mark = path->len;

  path_reserve (path, 1 + 2 * strlen (name));
  path->str[path->len++] = '/';
  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == '~' || *p == '/')
        {
          path->str[path->len++] = '~';
          path->str[path->len++] = *p == '~' ? '0' : '1';
        }
      else
        {
          path->str[path->len++] = *p;
        }
    }
  path->str[path->len] = '\0';
  return mark;
}

static gsize
path_push_index (Path  *path,
                 guint  index)
{
  gsize mark = path->len;

  path_reserve (path, 12);
  path->len += (gsize) g_snprintf (path->str + path->len, 12, "/%u", index);
  return mark;
}

static void
path_pop (Path  *path,
          gsize  mark)
{
  path->len = mark;
  path->str[mark] = '\0';
}

static void
add_error (Validation *v,
           char       *message)
{
  OddValidationError *error = g_new (OddValidationError, 1);

  error->path = g_strndup (v->path.str, v->path.len);
  error->message = message;
  g_ptr_array_add (v->errors, error);
}

static gboolean
format_ok (Format      format,
           const char *str)
{
  switch (format)
    {
    case FORMAT_UUID:
      return odd_uuid_is_valid (str);
    case FORMAT_DATE_TIME:
      return odd_time_parse_rfc3339 (str, NULL);
    case FORMAT_NONE:
    default:
      return TRUE;
    }
}

static const char *
format_message (Format format)
{
  return format == FORMAT_UUID ? "must be a valid uuid" : "must be a valid RFC 3339 date-time";
}

static void validate_node (Validation *v,
                           SchemaNode *node,
                           JsonNode   *instance);

static void
validate_string (Validation *v,
                 SchemaNode *node,
                 JsonNode   *instance)
{
  const char *str = json_node_get_string (instance);

  if (node->min_length >= 0 || node->max_length >= 0)
    {
      /* JSON Schema counts code points, not bytes. */
      glong length = g_utf8_strlen (str, -1);

      if (node->min_length >= 0 && length < node->min_length)
        add_error (v, g_strdup_printf ("must NOT have fewer than %" G_GINT64_FORMAT " characters", node->min_length));
      if (node->max_length >= 0 && length > node->max_length)
        add_error (v, g_strdup_printf ("must NOT have more than %" G_GINT64_FORMAT " characters", node->max_length));
    }

  if (node->pattern != NULL && !g_regex_match (node->pattern, str, 0, NULL))
    add_error (v, g_strdup (node->pattern_message));

  if (node->format != FORMAT_NONE && !format_ok (node->format, str))
    add_error (v, g_strdup (format_message (node->format)));
  else if (node->has_format_minimum || node->has_format_maximum)
    {
      gint64 instant;

      /* Only a date-time has a place in the range; other strings are the format's business. */
      if (odd_time_parse_rfc3339 (str, &instant))
        {
          if (node->has_format_minimum && instant < node->format_minimum)
            add_error (v, g_strdup (node->format_minimum_message));
          if (node->has_format_maximum && instant > node->format_maximum)
            add_error (v, g_strdup (node->format_maximum_message));
        }
    }
}

static void
validate_object (Validation *v,
                 SchemaNode *node,
                 JsonNode   *instance)
{
  JsonObject *object = json_node_get_object (instance);

  if (node->required != NULL)
    for (guint i = 0; node->required[i] != NULL; i++)
      if (!json_object_has_member (object, node->required[i]))
        add_error (v, g_strdup_printf ("must have required property '%s'", node->required[i]));

  for (guint i = 0; i < node->n_properties; i++)
    {
      JsonNode *member = json_object_get_member (object, node->properties[i].name);

      if (member != NULL)
        {
          gsize mark = path_push_name (&v->path, node->properties[i].name);
          validate_node (v, node->properties[i].schema, member);
          path_pop (&v->path, mark);
        }
    }

  if (node->additional != ADDITIONAL_ANY)
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init_ordered (&iter, object);
      while (json_object_iter_next_ordered (&iter, &name, &member))
        {
          if (node->property_index != NULL && g_hash_table_contains (node->property_index, name))
            continue;
          if (node->additional == ADDITIONAL_FORBIDDEN)
            {
              add_error (v, g_strdup_printf ("must NOT have additional property '%s'", name));
            }
          else
            {
              gsize mark = path_push_name (&v->path, name);
              validate_node (v, node->additional_schema, member);
              path_pop (&v->path, mark);
            }
        }
    }
}

static void
validate_array (Validation *v,
                SchemaNode *node,
                JsonNode   *instance)
{
  JsonArray *array = json_node_get_array (instance);
  guint length = json_array_get_length (array);

  if (node->min_items >= 0 && length < node->min_items)
    add_error (v, g_strdup_printf ("must NOT have fewer than %" G_GINT64_FORMAT " items", node->min_items));
  if (node->max_items >= 0 && length > node->max_items)
    add_error (v, g_strdup_printf ("must NOT have more than %" G_GINT64_FORMAT " items", node->max_items));

  if (node->items != NULL)
    for (guint i = 0; i < length; i++)
      {
        gsize mark = path_push_index (&v->path, i);
        validate_node (v, node->items, json_array_get_element (array, i));
        path_pop (&v->path, mark);
      }
}

static void
validate_node (Validation *v,
               SchemaNode *node,
               JsonNode   *instance)
{
  guint type;

  /* Chains are bounded at load (resolve_refs). */
  while (node->ref != NULL)
    node = node->ref;

  if (node->is_false)
    {
      add_error (v, g_strdup ("boolean schema is false"));
      return;
    }

  type = instance_type (instance);

  if (node->types != 0 && (node->types & type) == 0)
    {
      /* The other keywords would only restate that the value has the wrong type. */
      add_error (v, g_strdup (node->type_message));
      return;
    }

  if (node->n_enum > 0)
    {
      gboolean found = FALSE;

      for (guint i = 0; i < node->n_enum && !found; i++)
        found = json_equal (node->enum_values[i], instance);
      if (!found)
        add_error (v, g_strdup (node->enum_message));
    }

  if (node->const_value != NULL && !json_equal (node->const_value, instance))
    add_error (v, g_strdup ("must be equal to constant"));

  if (type & TYPE_STRING)
    {
      validate_string (v, node, instance);
    }
  else if (type & TYPE_NUMBER)
    {
      double d = number_value (instance);

      if (node->has_minimum && d < node->minimum)
        add_error (v, g_strdup (node->minimum_message));
      if (node->has_maximum && d > node->maximum)
        add_error (v, g_strdup (node->maximum_message));
    }
  else if (type & TYPE_OBJECT)
    {
      validate_object (v, node, instance);
    }
  else if (type & TYPE_ARRAY)
    {
      validate_array (v, node, instance);
    }
}

/* TRUE when some container of @node sits deeper than MAX_INSTANCE_DEPTH. */
static gboolean
too_deep (JsonNode *node,
          guint     depth)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      if (depth + 1 > MAX_INSTANCE_DEPTH)
        return TRUE;
      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member))
        if (too_deep (member, depth + 1))
          return TRUE;
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint length = json_array_get_length (array);

      if (depth + 1 > MAX_INSTANCE_DEPTH)
        return TRUE;
      for (guint i = 0; i < length; i++)
        if (too_deep (json_array_get_element (array, i), depth + 1))
          return TRUE;
    }
  return FALSE;
}

/* ---- registry ---- */

static void
odd_schema_registry_finalize (GObject *object)
{
  OddSchemaRegistry *self = ODD_SCHEMA_REGISTRY (object);

  g_clear_pointer (&self->by_name, g_hash_table_unref);
  g_clear_pointer (&self->schemas, g_ptr_array_unref);

  G_OBJECT_CLASS (odd_schema_registry_parent_class)->finalize (object);
}

static void
odd_schema_registry_class_init (OddSchemaRegistryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = odd_schema_registry_finalize;
}

static void
odd_schema_registry_init (OddSchemaRegistry *self)
{
  self->schemas = g_ptr_array_new_with_free_func ((GDestroyNotify) schema_free);
  self->by_name = g_hash_table_new (g_str_hash, g_str_equal);
}

OddSchemaRegistry *
odd_schema_registry_new (void)
{
  return g_object_new (ODD_TYPE_SCHEMA_REGISTRY, NULL);
}

static Schema *
lookup (OddSchemaRegistry *self,
        const char        *name)
{
  Schema *schema = g_hash_table_lookup (self->by_name, name);

  /* "job.json" finds "job" too. */
  if (schema == NULL && g_str_has_suffix (name, ".json"))
    {
      g_autofree char *stem = g_strndup (name, strlen (name) - 5);
      schema = g_hash_table_lookup (self->by_name, stem);
    }
  return schema;
}

gboolean
odd_schema_registry_load_file (OddSchemaRegistry  *self,
                               const char         *path,
                               GError            **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(Schema) schema = NULL;
  Schema *other;

  g_return_val_if_fail (ODD_IS_SCHEMA_REGISTRY (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!json_parser_load_from_file (parser, path, &local_error))
    {
      gboolean missing = g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT);

      g_set_error (error, ODD_SCHEMA_ERROR,
                   missing ? ODD_SCHEMA_ERROR_NOT_FOUND : ODD_SCHEMA_ERROR_INVALID,
                   "%s: %s", path, local_error->message);
      return FALSE;
    }

  schema = schema_compile (path, json_parser_get_root (parser), error);
  if (schema == NULL)
    return FALSE;

  other = g_hash_table_lookup (self->by_name, schema->name);
  if (other == NULL && schema->id != NULL)
    other = g_hash_table_lookup (self->by_name, schema->id);
  if (other != NULL)
    {
      g_set_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_INVALID,
                   "%s: name or $id already used by %s", path, other->path);
      return FALSE;
    }

  g_hash_table_insert (self->by_name, schema->name, schema);
  if (schema->id != NULL)
    g_hash_table_insert (self->by_name, schema->id, schema);
  g_ptr_array_add (self->schemas, g_steal_pointer (&schema));
  return TRUE;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

gboolean
odd_schema_registry_load_dir (OddSchemaRegistry  *self,
                              const char         *dir,
                              GError            **error)
{
  g_autoptr(GDir) gdir = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local_error = NULL;
  const char *name;

  g_return_val_if_fail (ODD_IS_SCHEMA_REGISTRY (self), FALSE);
  g_return_val_if_fail (dir != NULL, FALSE);

  gdir = g_dir_open (dir, 0, &local_error);
  if (gdir == NULL)
    {
      g_set_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND,
                   "cannot read the schema directory: %s (set CONTRACTS_PATH to the folder that holds schemas/)",
                   local_error->message);
      return FALSE;
    }

  while ((name = g_dir_read_name (gdir)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      g_ptr_array_add (files, g_build_filename (dir, name, NULL));

  if (files->len == 0)
    {
      g_set_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND,
                   "no *.json schema in %s (set CONTRACTS_PATH to the folder that holds schemas/)", dir);
      return FALSE;
    }

  /* A stable order makes duplicate reports and `odd-contract list` reproducible. */
  g_ptr_array_sort (files, compare_strings);
  for (guint i = 0; i < files->len; i++)
    if (!odd_schema_registry_load_file (self, g_ptr_array_index (files, i), error))
      return FALSE;

  return TRUE;
}

char *
odd_contracts_dir (void)
{
  const char *env = g_getenv ("CONTRACTS_PATH");
  g_autofree char *installed = NULL;

  /* An explicit setting wins even when wrong, so its mistake is reported, not hidden. */
  if (env != NULL && *env != '\0')
    return g_strdup (env);

  installed = g_build_filename (ODD_DATADIR, "contracts", NULL);
  if (g_file_test (installed, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&installed);

  return g_build_filename (ODD_SOURCE_DIR, "contracts", NULL);
}

OddSchemaRegistry *
odd_schema_registry_new_default (GError **error)
{
  g_autoptr(OddSchemaRegistry) self = odd_schema_registry_new ();
  g_autofree char *dir = odd_contracts_dir ();
  g_autofree char *schemas = g_build_filename (dir, "schemas", NULL);

  if (!odd_schema_registry_load_dir (self, schemas, error))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
odd_schema_registry_has (OddSchemaRegistry *self,
                         const char        *name)
{
  g_return_val_if_fail (ODD_IS_SCHEMA_REGISTRY (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return lookup (self, name) != NULL;
}

JsonNode *
odd_schema_registry_get_schema (OddSchemaRegistry *self,
                                const char        *name)
{
  Schema *schema;

  g_return_val_if_fail (ODD_IS_SCHEMA_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  schema = lookup (self, name);
  return schema != NULL ? schema->document : NULL;
}

GPtrArray *
odd_schema_registry_validate (OddSchemaRegistry  *self,
                              const char         *schema_name,
                              JsonNode           *instance,
                              GError            **error)
{
  Schema *schema;
  Validation v;

  g_return_val_if_fail (ODD_IS_SCHEMA_REGISTRY (self), NULL);
  g_return_val_if_fail (schema_name != NULL, NULL);
  g_return_val_if_fail (instance != NULL, NULL);

  schema = lookup (self, schema_name);
  if (schema == NULL)
    {
      g_set_error (error, ODD_SCHEMA_ERROR, ODD_SCHEMA_ERROR_NOT_FOUND,
                   "no schema named '%s'", schema_name);
      return NULL;
    }

  v.errors = g_ptr_array_new_with_free_func ((GDestroyNotify) odd_validation_error_free);
  v.path.str = v.path.stack;
  v.path.stack[0] = '\0';
  v.path.len = 0;
  v.path.allocated = sizeof v.path.stack;

  if (too_deep (instance, 0))
    add_error (&v, g_strdup_printf ("must NOT be nested deeper than %d levels", MAX_INSTANCE_DEPTH));
  else
    validate_node (&v, schema->root, instance);

  if (v.path.str != v.path.stack)
    g_free (v.path.str);

  return v.errors;
}

JsonNode *
odd_validation_errors_to_json (GPtrArray *errors)
{
  JsonArray *array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; errors != NULL && i < errors->len; i++)
    {
      OddValidationError *e = g_ptr_array_index (errors, i);
      JsonObject *object = json_object_new ();

      json_object_set_string_member (object, "path", e->path);
      json_object_set_string_member (object, "message", e->message);
      json_array_add_object_element (array, object);
    }

  json_node_take_array (node, array);
  return node;
}

char *
odd_validation_errors_to_string (GPtrArray *errors)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; errors != NULL && i < errors->len; i++)
    {
      OddValidationError *e = g_ptr_array_index (errors, i);

      if (i > 0)
        g_string_append (text, "; ");
      /* The root pointer is "", which would read as a dangling colon. */
      g_string_append_printf (text, "%s: %s", e->path[0] != '\0' ? e->path : "(root)", e->message);
    }

  return g_string_free (text, FALSE);
}

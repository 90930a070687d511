/* odd-schema-compat.c: is a new version of a schema breaking, additive or neutral?
 *
 * The two schema trees are walked together. A change is judged from the point of view of
 * an instance that was valid before: if it can now be rejected the change is breaking; if
 * only more instances are accepted it is additive; documentation changes are neutral.
 * Where the effect cannot be proven harmless (an unknown keyword, a changed regex) the
 * answer is breaking, so a bump is never too small.
 */
#define G_LOG_DOMAIN "odd-schema-compat"

#include "odd-schema-compat.h"
#include "odd-ids.h"

#include <stdarg.h>
#include <string.h>

#define MAX_REF_CHAIN 64

typedef struct {
  JsonNode       *old_root;
  JsonNode       *new_root;
  GPtrArray      *changes;
  OddCompatLevel  level;
  GHashTable     *visited;   /* (old, new) pairs already compared: recursive $ref stop here */
} Compat;

const char *
odd_compat_level_to_string (OddCompatLevel level)
{
  switch (level)
    {
    case ODD_COMPAT_NONE:
      return "none";
    case ODD_COMPAT_ADDITIVE:
      return "additive";
    case ODD_COMPAT_BREAKING:
      return "breaking";
    default:
      return "unknown";
    }
}

static void
change (Compat         *c,
        OddCompatLevel  level,
        const char     *pointer,
        const char     *format,
        ...) G_GNUC_PRINTF (4, 5);

static void
change (Compat         *c,
        OddCompatLevel  level,
        const char     *pointer,
        const char     *format,
        ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  if (level > c->level)
    c->level = level;
  g_ptr_array_add (c->changes, g_strdup_printf ("%s: #%s: %s",
                                                odd_compat_level_to_string (level), pointer, text));
}

static char *
child_pointer (const char *pointer,
               const char *keyword,
               const char *name)
{
  GString *s = g_string_new (pointer);
  const char *tokens[] = { keyword, name };

  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++)
    {
      if (tokens[i] == NULL)
        continue;
      g_string_append_c (s, '/');
      for (const char *p = tokens[i]; *p != '\0'; p++)
        {
          if (*p == '~')
            g_string_append (s, "~0");
          else if (*p == '/')
            g_string_append (s, "~1");
          else
            g_string_append_c (s, *p);
        }
    }
  return g_string_free (s, FALSE);
}

static gboolean
is_string (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
is_number (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         (json_node_get_value_type (node) == G_TYPE_INT64 || json_node_get_value_type (node) == G_TYPE_DOUBLE);
}

static double
number_of (JsonNode *node)
{
  return json_node_get_value_type (node) == G_TYPE_INT64
         ? (double) json_node_get_int (node)
         : json_node_get_double (node);
}

static char *
text_of (JsonNode *node)
{
  if (node == NULL)
    return g_strdup ("(none)");
  if (is_string (node))
    return g_strdup (json_node_get_string (node));
  return json_to_string (node, FALSE);
}

static gboolean
same_json (JsonNode *a,
           JsonNode *b)
{
  g_autofree char *ta = NULL;
  g_autofree char *tb = NULL;

  if (a == NULL || b == NULL)
    return a == b;
  if (is_number (a) && is_number (b))
    return number_of (a) == number_of (b);
  /* Good enough for schema values: both sides come from files written the same way. */
  ta = json_to_string (a, FALSE);
  tb = json_to_string (b, FALSE);
  return strcmp (ta, tb) == 0;
}

static gboolean
array_contains (JsonArray *array,
                JsonNode  *value)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (same_json (json_array_get_element (array, i), value))
      return TRUE;
  return FALSE;
}

/* Follows local $ref; NULL when one cannot be resolved. */
static JsonNode *
resolve (JsonNode *root,
         JsonNode *node)
{
  for (guint hops = 0; hops < MAX_REF_CHAIN; hops++)
    {
      JsonNode *ref;
      g_auto(GStrv) tokens = NULL;
      JsonNode *current = root;
      const char *text;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return node;
      ref = json_object_get_member (json_node_get_object (node), "$ref");
      if (!is_string (ref))
        return node;

      text = json_node_get_string (ref);
      if (strcmp (text, "#") == 0)
        {
          node = root;
          continue;
        }
      if (!g_str_has_prefix (text, "#/"))
        return NULL;

      tokens = g_strsplit (text + 2, "/", -1);
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
          current = JSON_NODE_HOLDS_OBJECT (current)
                    ? json_object_get_member (json_node_get_object (current), token->str)
                    : NULL;
        }
      if (current == NULL)
        return NULL;
      node = current;
    }

  return NULL;
}

/* Type names as a set, with "number" including "integer". 0 = any type. */
static guint
type_set (JsonObject *schema)
{
  static const char *names[] = { "null", "boolean", "object", "array", "number", "string", "integer" };
  JsonNode *type = json_object_get_member (schema, "type");
  guint mask = 0;
  g_autoptr(GPtrArray) list = g_ptr_array_new ();

  if (type == NULL)
    return 0;
  if (is_string (type))
    g_ptr_array_add (list, (gpointer) json_node_get_string (type));
  else if (JSON_NODE_HOLDS_ARRAY (type))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (type)); i++)
      {
        JsonNode *e = json_array_get_element (json_node_get_array (type), i);
        if (is_string (e))
          g_ptr_array_add (list, (gpointer) json_node_get_string (e));
      }

  for (guint i = 0; i < list->len; i++)
    for (guint n = 0; n < G_N_ELEMENTS (names); n++)
      if (strcmp (g_ptr_array_index (list, i), names[n]) == 0)
        mask |= 1u << n;

  /* number ⊃ integer */
  if (mask & (1u << 4))
    mask |= 1u << 6;
  return mask;
}

static char *
type_text (JsonObject *schema)
{
  JsonNode *type = json_object_get_member (schema, "type");
  return type != NULL ? text_of (type) : g_strdup ("any");
}

static void compare (Compat     *c,
                     JsonNode   *old_node,
                     JsonNode   *new_node,
                     const char *pointer);

static void
compare_type (Compat     *c,
              JsonObject *o,
              JsonObject *n,
              const char *pointer)
{
  guint old_set = type_set (o);
  guint new_set = type_set (n);
  g_autofree char *old_text = type_text (o);
  g_autofree char *new_text = type_text (n);

  if (old_set == new_set)
    return;
  if (new_set == 0 || (old_set != 0 && (old_set & ~new_set) == 0))
    change (c, ODD_COMPAT_ADDITIVE, pointer, "type widened from %s to %s", old_text, new_text);
  else
    change (c, ODD_COMPAT_BREAKING, pointer, "type changed from %s to %s", old_text, new_text);
}

static void
compare_enum (Compat     *c,
              JsonObject *o,
              JsonObject *n,
              const char *pointer)
{
  JsonNode *old_enum = json_object_get_member (o, "enum");
  JsonNode *new_enum = json_object_get_member (n, "enum");
  JsonArray *oa, *na;

  if (old_enum == NULL && new_enum == NULL)
    return;
  if (old_enum == NULL)
    {
      change (c, ODD_COMPAT_BREAKING, pointer, "enum added");
      return;
    }
  if (new_enum == NULL)
    {
      change (c, ODD_COMPAT_ADDITIVE, pointer, "enum removed (any value allowed)");
      return;
    }
  if (!JSON_NODE_HOLDS_ARRAY (old_enum) || !JSON_NODE_HOLDS_ARRAY (new_enum))
    {
      if (!same_json (old_enum, new_enum))
        change (c, ODD_COMPAT_BREAKING, pointer, "enum changed");
      return;
    }

  oa = json_node_get_array (old_enum);
  na = json_node_get_array (new_enum);
  for (guint i = 0; i < json_array_get_length (oa); i++)
    if (!array_contains (na, json_array_get_element (oa, i)))
      {
        g_autofree char *v = text_of (json_array_get_element (oa, i));
        change (c, ODD_COMPAT_BREAKING, pointer, "enum narrowed: value '%s' removed", v);
      }
  for (guint i = 0; i < json_array_get_length (na); i++)
    if (!array_contains (oa, json_array_get_element (na, i)))
      {
        g_autofree char *v = text_of (json_array_get_element (na, i));
        change (c, ODD_COMPAT_ADDITIVE, pointer, "enum widened: value '%s' added", v);
      }
}

static gboolean
required_has (JsonObject *schema,
              const char *name)
{
  JsonNode *required = json_object_get_member (schema, "required");

  if (required == NULL || !JSON_NODE_HOLDS_ARRAY (required))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (required)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (required), i);
      if (is_string (e) && strcmp (json_node_get_string (e), name) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
compare_required (Compat     *c,
                  JsonObject *o,
                  JsonObject *n,
                  const char *pointer)
{
  JsonNode *old_required = json_object_get_member (o, "required");
  JsonNode *new_required = json_object_get_member (n, "required");

  if (new_required != NULL && JSON_NODE_HOLDS_ARRAY (new_required))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (new_required)); i++)
      {
        JsonNode *e = json_array_get_element (json_node_get_array (new_required), i);
        if (is_string (e) && !required_has (o, json_node_get_string (e)))
          change (c, ODD_COMPAT_BREAKING, pointer, "property '%s' is now required", json_node_get_string (e));
      }

  if (old_required != NULL && JSON_NODE_HOLDS_ARRAY (old_required))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (old_required)); i++)
      {
        JsonNode *e = json_array_get_element (json_node_get_array (old_required), i);
        if (is_string (e) && !required_has (n, json_node_get_string (e)))
          change (c, ODD_COMPAT_ADDITIVE, pointer, "property '%s' is no longer required", json_node_get_string (e));
      }
}

static void
compare_properties (Compat     *c,
                    JsonObject *o,
                    JsonObject *n,
                    const char *pointer)
{
  JsonNode *old_props = json_object_get_member (o, "properties");
  JsonNode *new_props = json_object_get_member (n, "properties");
  JsonObject *op = old_props && JSON_NODE_HOLDS_OBJECT (old_props) ? json_node_get_object (old_props) : NULL;
  JsonObject *np = new_props && JSON_NODE_HOLDS_OBJECT (new_props) ? json_node_get_object (new_props) : NULL;
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  if (op != NULL)
    {
      json_object_iter_init_ordered (&iter, op);
      while (json_object_iter_next_ordered (&iter, &name, &member))
        {
          g_autofree char *child = child_pointer (pointer, "properties", name);
          JsonNode *other = np != NULL ? json_object_get_member (np, name) : NULL;

          if (other == NULL)
            change (c, ODD_COMPAT_BREAKING, child, "property '%s' removed", name);
          else
            compare (c, member, other, child);
        }
    }

  if (np != NULL)
    {
      json_object_iter_init_ordered (&iter, np);
      while (json_object_iter_next_ordered (&iter, &name, &member))
        if (op == NULL || !json_object_has_member (op, name))
          {
            g_autofree char *child = child_pointer (pointer, "properties", name);
            /* A newly required property is reported by compare_required. */
            change (c, ODD_COMPAT_ADDITIVE, child, "%s property '%s' added",
                    required_has (n, name) ? "required" : "optional", name);
          }
    }
}

typedef enum { OPEN, CLOSED, SCHEMA } AdditionalKind;

static AdditionalKind
additional_kind (JsonNode *node)
{
  if (node == NULL)
    return OPEN;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return json_node_get_boolean (node) ? OPEN : CLOSED;
  return SCHEMA;
}

/* additionalProperties and items: both "a sub-schema, or absent for anything". */
static void
compare_subschema (Compat     *c,
                   JsonObject *o,
                   JsonObject *n,
                   const char *keyword,
                   const char *pointer)
{
  JsonNode *old_sub = json_object_get_member (o, keyword);
  JsonNode *new_sub = json_object_get_member (n, keyword);
  AdditionalKind ok = additional_kind (old_sub);
  AdditionalKind nk = additional_kind (new_sub);
  g_autofree char *child = child_pointer (pointer, keyword, NULL);

  if (ok == nk && ok != SCHEMA)
    return;
  if (ok == SCHEMA && nk == SCHEMA)
    compare (c, old_sub, new_sub, child);
  else if (nk == OPEN || ok == CLOSED)
    change (c, ODD_COMPAT_ADDITIVE, child, "%s relaxed", keyword);
  else
    change (c, ODD_COMPAT_BREAKING, child, "%s restricted", keyword);
}

/* A lower bound (is_lower) may only go down to stay additive, an upper bound only up. */
static void
compare_bound (Compat     *c,
               JsonObject *o,
               JsonObject *n,
               const char *keyword,
               gboolean    is_lower,
               const char *pointer)
{
  JsonNode *ov = json_object_get_member (o, keyword);
  JsonNode *nv = json_object_get_member (n, keyword);
  g_autofree char *ot = text_of (ov);
  g_autofree char *nt = text_of (nv);

  gint64 oi, ni;

  if (ov == NULL && nv == NULL)
    return;
  /* formatMinimum / formatMaximum: date-times, compared as instants */
  if (ov != NULL && nv != NULL && !is_number (ov) && !is_number (nv) &&
      JSON_NODE_HOLDS_VALUE (ov) && JSON_NODE_HOLDS_VALUE (nv) &&
      json_node_get_value_type (ov) == G_TYPE_STRING && json_node_get_value_type (nv) == G_TYPE_STRING &&
      odd_time_parse_rfc3339 (json_node_get_string (ov), &oi) &&
      odd_time_parse_rfc3339 (json_node_get_string (nv), &ni))
    {
      if (oi == ni)
        return;
      if ((is_lower && ni < oi) || (!is_lower && ni > oi))
        change (c, ODD_COMPAT_ADDITIVE, pointer, "%s relaxed from %s to %s", keyword, ot, nt);
      else
        change (c, ODD_COMPAT_BREAKING, pointer, "%s tightened from %s to %s", keyword, ot, nt);
      return;
    }
  if (ov != NULL && nv != NULL && is_number (ov) && is_number (nv))
    {
      double a = number_of (ov), b = number_of (nv);

      if (a == b)
        return;
      if ((is_lower && b < a) || (!is_lower && b > a))
        change (c, ODD_COMPAT_ADDITIVE, pointer, "%s relaxed from %s to %s", keyword, ot, nt);
      else
        change (c, ODD_COMPAT_BREAKING, pointer, "%s tightened from %s to %s", keyword, ot, nt);
      return;
    }
  if (nv == NULL)
    change (c, ODD_COMPAT_ADDITIVE, pointer, "%s %s removed", keyword, ot);
  else
    change (c, ODD_COMPAT_BREAKING, pointer, "%s %s added", keyword, nt);
}

/* pattern, format, const: any change may reject an old instance, only removal is safe. */
static void
compare_exact (Compat     *c,
               JsonObject *o,
               JsonObject *n,
               const char *keyword,
               const char *pointer)
{
  JsonNode *ov = json_object_get_member (o, keyword);
  JsonNode *nv = json_object_get_member (n, keyword);
  g_autofree char *ot = text_of (ov);
  g_autofree char *nt = text_of (nv);

  if (same_json (ov, nv))
    return;
  if (nv == NULL)
    change (c, ODD_COMPAT_ADDITIVE, pointer, "%s '%s' removed", keyword, ot);
  else if (ov == NULL)
    change (c, ODD_COMPAT_BREAKING, pointer, "%s '%s' added", keyword, nt);
  else
    change (c, ODD_COMPAT_BREAKING, pointer, "%s changed from '%s' to '%s'", keyword, ot, nt);
}

static const char *handled_keywords[] = {
  "type", "enum", "required", "properties", "additionalProperties", "items", "pattern", "format",
  "const", "minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum",
  "formatMinimum", "formatMaximum", "$ref", "definitions", "$defs", "$version", NULL
};
static const char *annotation_keywords[] = {
  "$schema", "$comment", "title", "description", "default", "examples", "readOnly", "writeOnly", NULL
};

static void
compare_others (Compat     *c,
                JsonObject *o,
                JsonObject *n,
                const char *pointer)
{
  JsonObject *sides[] = { o, n };

  /* Every keyword present on either side and not handled above. */
  for (guint s = 0; s < 2; s++)
    {
      JsonObjectIter iter;
      const char *keyword;
      JsonNode *value;

      json_object_iter_init_ordered (&iter, sides[s]);
      while (json_object_iter_next_ordered (&iter, &keyword, &value))
        {
          JsonNode *ov = json_object_get_member (o, keyword);
          JsonNode *nv = json_object_get_member (n, keyword);

          if (g_strv_contains (handled_keywords, keyword))
            continue;
          /* Seen from the old side already. */
          if (s == 1 && ov != NULL)
            continue;
          if (same_json (ov, nv))
            continue;

          if (g_strv_contains (annotation_keywords, keyword) || g_str_has_prefix (keyword, "x-"))
            change (c, ODD_COMPAT_NONE, pointer, "%s changed", keyword);
          else if (strcmp (keyword, "$id") == 0)
            change (c, ODD_COMPAT_BREAKING, pointer, "$id changed: references by $id break");
          else
            change (c, ODD_COMPAT_BREAKING, pointer, "keyword '%s' changed (effect unknown, counted as breaking)",
                    keyword);
        }
    }
}

static gboolean
is_bool (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN;
}

static void
compare (Compat     *c,
         JsonNode   *old_node,
         JsonNode   *new_node,
         const char *pointer)
{
  g_autofree char *pair = NULL;
  g_autoptr(JsonNode) empty = NULL;
  JsonObject *o, *n;

  old_node = resolve (c->old_root, old_node);
  new_node = resolve (c->new_root, new_node);
  if (old_node == NULL || new_node == NULL)
    {
      change (c, ODD_COMPAT_BREAKING, pointer, "a $ref cannot be resolved");
      return;
    }

  pair = g_strdup_printf ("%p %p", (void *) old_node, (void *) new_node);
  if (g_hash_table_contains (c->visited, pair))
    return;
  g_hash_table_add (c->visited, g_steal_pointer (&pair));

  /* Boolean schemas: true accepts all (as {}), false accepts nothing. */
  if (is_bool (old_node) || is_bool (new_node))
    {
      gboolean old_false = is_bool (old_node) && !json_node_get_boolean (old_node);
      gboolean new_false = is_bool (new_node) && !json_node_get_boolean (new_node);

      if (old_false && !new_false)
        {
          change (c, ODD_COMPAT_ADDITIVE, pointer, "schema no longer false");
          return;
        }
      if (new_false && !old_false)
        {
          change (c, ODD_COMPAT_BREAKING, pointer, "schema became false");
          return;
        }
      if (old_false && new_false)
        return;
      {
        g_autoptr(JsonObject) nothing = json_object_new ();
        /* init_object takes its own reference */
        empty = json_node_init_object (json_node_alloc (), nothing);
      }
      if (is_bool (old_node))
        old_node = empty;
      if (is_bool (new_node))
        new_node = empty;
    }

  if (!JSON_NODE_HOLDS_OBJECT (old_node) || !JSON_NODE_HOLDS_OBJECT (new_node))
    {
      if (!same_json (old_node, new_node))
        change (c, ODD_COMPAT_BREAKING, pointer, "schema is not an object");
      return;
    }

  o = json_node_get_object (old_node);
  n = json_node_get_object (new_node);

  compare_type (c, o, n, pointer);
  compare_enum (c, o, n, pointer);
  compare_exact (c, o, n, "const", pointer);
  compare_exact (c, o, n, "pattern", pointer);
  compare_exact (c, o, n, "format", pointer);
  compare_bound (c, o, n, "minLength", TRUE, pointer);
  compare_bound (c, o, n, "maxLength", FALSE, pointer);
  compare_bound (c, o, n, "minItems", TRUE, pointer);
  compare_bound (c, o, n, "maxItems", FALSE, pointer);
  compare_bound (c, o, n, "minimum", TRUE, pointer);
  compare_bound (c, o, n, "maximum", FALSE, pointer);
  compare_bound (c, o, n, "formatMinimum", TRUE, pointer);
  compare_bound (c, o, n, "formatMaximum", FALSE, pointer);
  compare_required (c, o, n, pointer);
  compare_properties (c, o, n, pointer);
  compare_subschema (c, o, n, "additionalProperties", pointer);
  compare_subschema (c, o, n, "items", pointer);
  compare_others (c, o, n, pointer);
}

static gboolean
parse_version (JsonNode *schema,
               guint64   version[3])
{
  JsonNode *node;
  g_auto(GStrv) parts = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (schema))
    return FALSE;
  node = json_object_get_member (json_node_get_object (schema), "$version");
  if (!is_string (node))
    return FALSE;

  parts = g_strsplit (json_node_get_string (node), ".", -1);
  if (g_strv_length (parts) != 3)
    return FALSE;
  for (guint i = 0; i < 3; i++)
    if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXUINT32, &version[i], NULL))
      return FALSE;
  return TRUE;
}

static int
version_cmp (const guint64 a[3],
             const guint64 b[3])
{
  for (guint i = 0; i < 3; i++)
    if (a[i] != b[i])
      return a[i] < b[i] ? -1 : 1;
  return 0;
}

OddCompatLevel
odd_schema_compat_check (JsonNode   *old_schema,
                         JsonNode   *new_schema,
                         GPtrArray **changes,
                         gboolean   *version_ok)
{
  Compat c = { old_schema, new_schema, NULL, ODD_COMPAT_NONE, NULL };
  guint64 old_version[3], new_version[3];
  gboolean versions_parse;
  gboolean ok;

  g_return_val_if_fail (old_schema != NULL, ODD_COMPAT_BREAKING);
  g_return_val_if_fail (new_schema != NULL, ODD_COMPAT_BREAKING);

  c.changes = g_ptr_array_new_with_free_func (g_free);
  c.visited = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  compare (&c, old_schema, new_schema, "");

  versions_parse = parse_version (old_schema, old_version) && parse_version (new_schema, new_version);
  if (!versions_parse)
    ok = FALSE;
  else if (c.level == ODD_COMPAT_BREAKING)
    ok = new_version[0] > old_version[0];
  else if (c.level == ODD_COMPAT_ADDITIVE)
    ok = version_cmp (new_version, old_version) > 0 &&
         (new_version[0] > old_version[0] || new_version[1] > old_version[1]);
  else if (c.changes->len > 0)
    ok = version_cmp (new_version, old_version) > 0;
  else
    ok = version_cmp (new_version, old_version) >= 0;

  if (version_ok != NULL)
    *version_ok = ok;

  g_hash_table_unref (c.visited);
  if (changes != NULL)
    *changes = c.changes;
  else
    g_ptr_array_unref (c.changes);

  return c.level;
}

/* odd-json.c: strict JSON in, compact JSON out
 *
 * json-glib 1.6 parses a superset of JSON: single-quoted strings, hex numbers, comments,
 * leading zeros, and 1e999 as infinity, which it then writes back as "inf.0", a document no
 * consumer can parse. Everything that enters the system (HTTP bodies, broker messages) goes
 * through odd_json_parse(), which refuses what is not RFC 8259 JSON before json-glib sees it.
 * The check is iterative and bounds the nesting, so hostile input costs no stack: json-glib's
 * own parser recurses.
 */
#define G_LOG_DOMAIN "odd-json"

#include <math.h>
#include <string.h>

#include "odd-json.h"

typedef enum {
  EXPECT_VALUE,
  EXPECT_VALUE_OR_END,   /* just after '[' */
  EXPECT_KEY_OR_END,     /* just after '{' */
  EXPECT_KEY,            /* after ',' in an object */
  EXPECT_COLON,
  AFTER_VALUE,
} State;

static gboolean
fail (char       **error_message,
      gsize        offset,
      const char  *what)
{
  if (error_message != NULL)
    *error_message = g_strdup_printf ("at byte %" G_GSIZE_FORMAT ": %s", offset, what);
  return FALSE;
}

static gboolean
is_ws (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

#define UNTERMINATED (G_MAXUINT - 1)

/* The code unit of the \uXXXX at @p; UNTERMINATED when the text ends first, G_MAXUINT (and
 * @error_message) when it is not four hex digits. */
static guint
scan_unicode_escape (const char  *data,
                     gsize        len,
                     gsize        p,
                     char       **error_message)
{
  guint unit = 0;

  if (p + 6 > len)
    return UNTERMINATED;
  for (gsize i = p + 2; i < p + 6; i++)
    {
      if (!g_ascii_isxdigit (data[i]))
        {
          fail (error_message, i, "\\u needs four hex digits");
          return G_MAXUINT;
        }
      unit = unit * 16 + (guint) g_ascii_xdigit_value (data[i]);
    }

  return unit;
}

/* @p is just after the opening quote; returns the offset after the closing one, or 0. */
static gsize
scan_string (const char  *data,
             gsize        len,
             gsize        p,
             char       **error_message)
{
  while (p < len)
    {
      guchar c = (guchar) data[p];

      if (c == '"')
        return p + 1;
      if (c < 0x20)
        return fail (error_message, p, "control character in a string (escape it)");
      if (c == '\\')
        {
          if (p + 1 >= len)
            break;
          c = (guchar) data[p + 1];
          if (c == 'u')
            {
              guint unit;

              if ((unit = scan_unicode_escape (data, len, p, error_message)) == G_MAXUINT)
                return 0;
              if (unit == UNTERMINATED)
                break;
              /* json-glib cuts the string at \u0000 and turns an unpaired surrogate into
               * invalid UTF-8 (eating what follows): refuse them rather than lose data. */
              if (unit == 0)
                return fail (error_message, p, "\\u0000 is not allowed in a string");
              if (unit >= 0xDC00 && unit <= 0xDFFF)
                return fail (error_message, p, "unpaired UTF-16 surrogate in a string");
              if (unit >= 0xD800 && unit <= 0xDBFF)
                {
                  guint low;

                  if (p + 12 > len || data[p + 6] != '\\' || data[p + 7] != 'u')
                    return fail (error_message, p, "unpaired UTF-16 surrogate in a string");
                  if ((low = scan_unicode_escape (data, len, p + 6, error_message)) == G_MAXUINT)
                    return 0;
                  if (low < 0xDC00 || low > 0xDFFF)
                    return fail (error_message, p, "unpaired UTF-16 surrogate in a string");
                  p += 6;
                }
              p += 6;
              continue;
            }
          if (strchr ("\"\\/bfnrt", c) == NULL || c == '\0')
            return fail (error_message, p, "invalid escape in a string");
          p += 2;
          continue;
        }
      p++;
    }

  return fail (error_message, len, "unterminated string");
}

static gsize
scan_digits (const char *data,
             gsize       len,
             gsize       p)
{
  while (p < len && g_ascii_isdigit (data[p]))
    p++;
  return p;
}

/* Returns the offset after the number, or 0. */
static gsize
scan_number (const char  *data,
             gsize        len,
             gsize        p,
             char       **error_message)
{
  gsize start = p;
  gsize end;
  g_autofree char *token = NULL;

  if (data[p] == '-')
    p++;
  if (p >= len || !g_ascii_isdigit (data[p]))
    return fail (error_message, p, "a number needs digits");
  if (data[p] == '0')
    {
      p++;
      if (p < len && g_ascii_isdigit (data[p]))
        return fail (error_message, p, "leading zeros are not allowed");
    }
  else
    {
      p = scan_digits (data, len, p);
    }
  if (p < len && data[p] == '.')
    {
      end = scan_digits (data, len, p + 1);
      if (end == p + 1)
        return fail (error_message, p, "a fraction needs digits");
      p = end;
    }
  if (p < len && (data[p] == 'e' || data[p] == 'E'))
    {
      p++;
      if (p < len && (data[p] == '+' || data[p] == '-'))
        p++;
      end = scan_digits (data, len, p);
      if (end == p)
        return fail (error_message, p, "an exponent needs digits");
      p = end;
    }

  /* Valid grammar, but 1e999 has no double: it would come back out as "inf". */
  token = g_strndup (data + start, p - start);
  if (!isfinite (g_ascii_strtod (token, NULL)))
    return fail (error_message, start, "number out of range");
  /* json-glib reads an integer into a gint64 without an overflow check: 2^63 comes back
   * as -2^63 and 2^64 as -1. */
  if (strpbrk (token, ".eE") == NULL &&
      !g_ascii_string_to_signed (token, 10, G_MININT64, G_MAXINT64, NULL, NULL))
    return fail (error_message, start, "integer out of range (more than 64 bits)");

  return p;
}

gboolean
odd_json_check_strict (const char  *data,
                               gsize        len,
                               char       **error_message)
{
  g_autoptr(GByteArray) stack = g_byte_array_new ();
  State state = EXPECT_VALUE;
  gsize p = 0;

  while (TRUE)
    {
      char c;

      while (p < len && is_ws (data[p]))
        p++;
      if (p >= len)
        break;
      c = data[p];

      switch (state)
        {
        case EXPECT_VALUE:
        case EXPECT_VALUE_OR_END:
          if (state == EXPECT_VALUE_OR_END && c == ']')
            {
              g_byte_array_set_size (stack, stack->len - 1);
              state = AFTER_VALUE;
              p++;
            }
          else if (c == '{' || c == '[')
            {
              guint8 kind = (guint8) c;

              if (stack->len >= ODD_JSON_MAX_DEPTH)
                return fail (error_message, p, "nested deeper than " G_STRINGIFY (ODD_JSON_MAX_DEPTH) " levels");
              g_byte_array_append (stack, &kind, 1);
              state = c == '{' ? EXPECT_KEY_OR_END : EXPECT_VALUE_OR_END;
              p++;
            }
          else if (c == '"')
            {
              if ((p = scan_string (data, len, p + 1, error_message)) == 0)
                return FALSE;
              state = AFTER_VALUE;
            }
          else if (c == '-' || g_ascii_isdigit (c))
            {
              if ((p = scan_number (data, len, p, error_message)) == 0)
                return FALSE;
              state = AFTER_VALUE;
            }
          else
            {
              static const char *const literals[] = { "true", "false", "null" };
              gboolean found = FALSE;

              for (guint i = 0; i < G_N_ELEMENTS (literals) && !found; i++)
                {
                  gsize n = strlen (literals[i]);

                  if (len - p >= n && memcmp (data + p, literals[i], n) == 0)
                    {
                      p += n;
                      found = TRUE;
                    }
                }
              if (!found)
                return fail (error_message, p, "expected a value");
              state = AFTER_VALUE;
            }
          break;

        case EXPECT_KEY_OR_END:
        case EXPECT_KEY:
          if (state == EXPECT_KEY_OR_END && c == '}')
            {
              g_byte_array_set_size (stack, stack->len - 1);
              state = AFTER_VALUE;
              p++;
            }
          else if (c == '"')
            {
              if ((p = scan_string (data, len, p + 1, error_message)) == 0)
                return FALSE;
              state = EXPECT_COLON;
            }
          else
            {
              return fail (error_message, p, "expected a member name in double quotes");
            }
          break;

        case EXPECT_COLON:
          if (c != ':')
            return fail (error_message, p, "expected ':'");
          state = EXPECT_VALUE;
          p++;
          break;

        case AFTER_VALUE:
          if (stack->len == 0)
            return fail (error_message, p, "data after the JSON value");
          if (c == ',')
            state = stack->data[stack->len - 1] == '{' ? EXPECT_KEY : EXPECT_VALUE;
          else if (c == (stack->data[stack->len - 1] == '{' ? '}' : ']'))
            g_byte_array_set_size (stack, stack->len - 1);
          else
            return fail (error_message, p, stack->data[stack->len - 1] == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
          p++;
          break;

        default:
          g_assert_not_reached ();
        }
    }

  if (state != AFTER_VALUE || stack->len > 0)
    return fail (error_message, len, "unexpected end of the text");

  return TRUE;
}

/* json-glib's *_with_default() getters still emit a critical when the member is an object or
 * an array; input from outside (read model, dead letters) must not be able to cause that. */
const char *
odd_json_get_string (JsonObject *object,
                             const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

gboolean
odd_json_get_int (JsonObject *object,
                          const char *name,
                          gint64     *value)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;

  *value = json_node_get_int (node);
  return TRUE;
}

JsonObject *
odd_json_get_object (JsonObject *object,
                             const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_get_object (node);
}

/* json-glib 1.6 appends ".0" to every double printed without a '.', also to "1e+20": drop
 * it again after an exponent, or the text is not JSON. Strings are skipped (their quotes
 * and backslashes are escaped, so the scan cannot lose its place). */
static void
fix_exponents (char *text)
{
  gboolean in_string = FALSE;
  char *out = text;

  for (const char *p = text; *p != '\0'; )
    {
      if (in_string)
        {
          if (*p == '\\' && p[1] != '\0')
            *out++ = *p++;
          else if (*p == '"')
            in_string = FALSE;
          *out++ = *p++;
          continue;
        }
      if (*p == '"')
        in_string = TRUE;
      if ((*p == 'e' || *p == 'E') && (g_ascii_isdigit (p[1]) ||
                                       ((p[1] == '+' || p[1] == '-') && g_ascii_isdigit (p[2]))))
        {
          *out++ = *p++;
          if (*p == '+' || *p == '-')
            *out++ = *p++;
          while (g_ascii_isdigit (*p))
            *out++ = *p++;
          if (p[0] == '.' && p[1] == '0' && !g_ascii_isdigit (p[2]))
            p += 2;
          continue;
        }
      *out++ = *p++;
    }
  *out = '\0';
}

char *
odd_json_to_string (JsonNode *node)
{
  char *text;

  g_return_val_if_fail (node != NULL, NULL);

  text = json_to_string (node, FALSE);
  fix_exponents (text);

  /* json-glib 1.6 escapes every control character but U+001F, which it writes raw (not
   * JSON). That byte cannot occur in UTF-8 otherwise, nor outside a string in its output. */
  if (strchr (text, 0x1f) != NULL)
    {
      GString *escaped = g_string_sized_new (strlen (text) + 16);

      for (const char *p = text; *p != '\0'; p++)
        {
          if (*p == 0x1f)
            g_string_append (escaped, "\\u001f");
          else
            g_string_append_c (escaped, *p);
        }
      g_free (text);
      text = g_string_free (escaped, FALSE);
    }

  return text;
}

JsonNode *
odd_json_parse (const char *data,
                gssize      len,
                GError    **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *problem = NULL;
  JsonNode *root;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len < 0)
    len = (gssize) strlen (data);

  if (!g_utf8_validate (data, len, NULL) || memchr (data, '\0', (gsize) len) != NULL)
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                           "not valid JSON: the text is not UTF-8");
      return NULL;
    }
  if (!odd_json_check_strict (data, (gsize) len, &problem))
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, "not valid JSON: %s", problem);
      return NULL;
    }

  /* mutable: callers edit what they parse (jobs completed, envelopes re-sent) */
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, len, &local_error))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "not valid JSON: ");
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                           "not valid JSON: the text is empty");
      return NULL;
    }

  return json_node_ref (root);
}

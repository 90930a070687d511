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

/* @p is just after the opening quote; returns the offset after the closing one, or 0.
 * @ours: text we wrote (raw nodes' markers allowed). */
static gsize
scan_string_full (const char  *data,
                  gsize        len,
                  gsize        p,
                  gboolean     ours,
                  char       **error_message)
{
  gsize start = p;

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
              /* odd_json_raw_new() marks its nodes so: no text from outside may forge one */
              if (unit == 1 && p == start && !ours)
                return fail (error_message, p, "a string may not start with \\u0001 (reserved)");
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
scan_string (const char  *data,
             gsize        len,
             gsize        p,
             char       **error_message)
{
  return scan_string_full (data, len, p, FALSE, error_message);
}

/* The end of a string in text that passed the check, or that we wrote. */
static gsize
skip_string (const char *data,
             gsize       len,
             gsize       p)
{
  gsize end = scan_string_full (data, len, p, TRUE, NULL);

  return end != 0 ? end : len;
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

/* PostgreSQL's numeric (what jsonb stores numbers as) keeps at most this many digits after
 * the decimal point; a number written with more makes the whole document unstorable. */
#define MAX_SCALE 16383

/* Returns the offset after the number, or 0. Sets @big_integer when it is an integer
 * beyond 64 bits (json-glib would wrap it: odd_json_parse() reads it as a double). */
static gsize
scan_number (const char  *data,
             gsize        len,
             gsize        p,
             gboolean    *big_integer,
             char       **error_message)
{
  gsize start = p;
  gsize end;
  gsize fraction_digits = 0;
  gint64 exponent = 0;
  gboolean exponent_negative = FALSE;
  gboolean integer = TRUE;
  char stack_token[64];
  g_autofree char *heap_token = NULL;
  char *token;

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
      fraction_digits = end - p - 1;
      integer = FALSE;
      p = end;
    }
  if (p < len && (data[p] == 'e' || data[p] == 'E'))
    {
      p++;
      integer = FALSE;
      if (p < len && (data[p] == '+' || data[p] == '-'))
        exponent_negative = data[p++] == '-';
      end = scan_digits (data, len, p);
      if (end == p)
        return fail (error_message, p, "an exponent needs digits");
      for (gsize i = p; i < end; i++)
        exponent = MIN (exponent * 10 + (data[i] - '0'), (gint64) G_MAXINT32);
      p = end;
    }

  /* The same number, written out, as PostgreSQL would store it. */
  if (!exponent_negative && exponent > MAX_SCALE)
    return fail (error_message, start, "number out of range (exponent beyond 16383)");
  if ((gint64) fraction_digits + (exponent_negative ? exponent : -exponent) > MAX_SCALE)
    return fail (error_message, start, "number has more than 16383 digits after the decimal point");

  /* Valid grammar, but 1e999 has no double: it would come back out as "inf". */
  if (p - start < sizeof stack_token)
    {
      memcpy (stack_token, data + start, p - start);
      stack_token[p - start] = '\0';
      token = stack_token;
    }
  else
    {
      token = heap_token = g_strndup (data + start, p - start);
    }
  if (!isfinite (g_ascii_strtod (token, NULL)))
    return fail (error_message, start, "number out of range");
  if (integer && !g_ascii_string_to_signed (token, 10, G_MININT64, G_MAXINT64, NULL, NULL))
    *big_integer = TRUE;

  return p;
}

static gboolean
check_strict (const char  *data,
              gsize        len,
              guint        max_depth,
              gboolean    *big_integers,
              char       **error_message)
{
  g_autoptr(GByteArray) stack = g_byte_array_new ();
  State state = EXPECT_VALUE;
  gsize p = 0;

  *big_integers = FALSE;

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

              if (stack->len >= max_depth)
                {
                  g_autofree char *what = g_strdup_printf ("nested deeper than %u levels", max_depth);

                  return fail (error_message, p, what);
                }
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
              if ((p = scan_number (data, len, p, big_integers, error_message)) == 0)
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

gboolean
odd_json_check_strict (const char  *data,
                       gsize        len,
                       char       **error_message)
{
  gboolean big_integers;

  return check_strict (data, len, ODD_JSON_MAX_DEPTH, &big_integers, error_message);
}

gboolean
odd_json_check_strict_depth (const char  *data,
                             gsize        len,
                             guint        max_depth,
                             char       **error_message)
{
  gboolean big_integers;

  g_return_val_if_fail (max_depth <= ODD_JSON_MAX_DEPTH, FALSE);

  return check_strict (data, len, max_depth, &big_integers, error_message);
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

/* json-glib 1.6 writes every double with 17 significant digits (0.317 as 0.31700000000000000,
 * a rate of 0.1 as 0.10000000000000001) and appends ".0" to one printed without a '.', also to
 * "1e+20" (then not JSON). Each double is written again as the shortest text that reads back
 * as the same double (of 15, 16 or 17 digits), so the value is unchanged. Strings are skipped
 * (their quotes and backslashes are escaped, so the scan cannot lose its place). */
static char *
shorten_doubles (char *text)
{
  GString *out = NULL;
  gboolean in_string = FALSE;
  const char *copied = text;   /* text before this is in out already */
  const char *p = text;

  while (*p != '\0')
    {
      const char *end = p;
      gboolean is_double = FALSE;
      char buf[G_ASCII_DTOSTR_BUF_SIZE + 2];
      double value;

      if (in_string)
        {
          if (*p == '\\' && p[1] != '\0')
            p++;
          else if (*p == '"')
            in_string = FALSE;
          p++;
          continue;
        }
      if (*p == '"')
        {
          in_string = TRUE;
          p++;
          continue;
        }
      if (*p != '-' && !g_ascii_isdigit (*p))
        {
          p++;
          continue;
        }
      for (end = p + 1; *end != '\0' && (g_ascii_isdigit (*end) || strchr ("+-.eE", *end) != NULL); end++)
        is_double |= *end == '.' || *end == 'e' || *end == 'E';
      if (!is_double)
        {
          p = end;
          continue;
        }
      value = g_ascii_strtod (p, NULL);
      for (int digits = 15; digits <= 17; digits++)
        {
          char format[8];

          g_snprintf (format, sizeof format, "%%.%dg", digits);
          g_ascii_formatd (buf, G_ASCII_DTOSTR_BUF_SIZE, format, value);
          if (g_ascii_strtod (buf, NULL) == value)
            break;
        }
      if (strpbrk (buf, ".eEn") == NULL)
        strcat (buf, ".0");
      if (strlen (buf) != (gsize) (end - p) || strncmp (buf, p, end - p) != 0)
        {
          if (out == NULL)
            out = g_string_sized_new (strlen (text));
          g_string_append_len (out, copied, p - copied);
          g_string_append (out, buf);
          copied = end;
        }
      p = end;
    }
  if (out == NULL)
    return text;
  g_string_append (out, copied);
  g_free (text);
  return g_string_free (out, FALSE);
}

/* Raw JSON text in a JsonNode
 *
 * json-glib holds a number as a gint64 or a double, and writes a double back with 17 digits:
 * 0.1 comes out as 0.10000000000000001, 12345678901234567890 as 1.2345678901234567e+19. Text
 * that must stay exactly as it came (a job's payload) travels as a string node holding a
 * marker and the text; odd_json_to_string() writes the text in its place. No string from
 * outside can pass for one: the strict check refuses a string that starts with U+0001
 * (scan_string()), and raw control characters are refused anyway. */

#define RAW_MARKER     "\001odd-raw\001"
#define RAW_MARKER_LEN (sizeof RAW_MARKER - 1)

JsonNode *
odd_json_raw_new (const char *json_text,
                  gssize      len)
{
  g_autoptr(GString) value = g_string_new (RAW_MARKER);
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  g_return_val_if_fail (json_text != NULL, NULL);

  g_string_append_len (value, json_text, len < 0 ? (gssize) strlen (json_text) : len);
  json_node_set_string (node, value->str);
  return node;
}

const char *
odd_json_raw_get_text (JsonNode *node)
{
  const char *value;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  value = json_node_get_string (node);
  if (strncmp (value, RAW_MARKER, RAW_MARKER_LEN) != 0)
    return NULL;
  return value + RAW_MARKER_LEN;
}

/* Appends the JSON string content @s[0, len) (between its quotes) unescaped; FALSE, and
 * @out as it was, on an escape json-glib would not have written. */
static gboolean
append_unescaped (GString    *out,
                  const char *s,
                  gsize       len)
{
  gsize before = out->len;
  gsize p = 0;

  while (p < len)
    {
      const char *slash = memchr (s + p, '\\', len - p);
      gsize run = slash != NULL ? (gsize) (slash - (s + p)) : len - p;
      gunichar c;

      g_string_append_len (out, s + p, (gssize) run);
      p += run;
      if (p >= len)
        break;
      if (p + 1 >= len)
        goto bad;
      switch (s[p + 1])
        {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
          {
            c = 0;
            if (p + 6 > len)
              goto bad;
            for (int i = 2; i < 6; i++)
              {
                int digit = g_ascii_xdigit_value (s[p + i]);

                if (digit < 0)
                  goto bad;
                c = c * 16 + (gunichar) digit;
              }
            if (c >= 0xD800 && c <= 0xDBFF)
              {
                gunichar low = 0;

                if (p + 12 > len || s[p + 6] != '\\' || s[p + 7] != 'u')
                  goto bad;
                for (int i = 8; i < 12; i++)
                  {
                    int digit = g_ascii_xdigit_value (s[p + i]);

                    if (digit < 0)
                      goto bad;
                    low = low * 16 + (gunichar) digit;
                  }
                if (low < 0xDC00 || low > 0xDFFF)
                  goto bad;
                c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                p += 6;
              }
            else if (c == 0 || (c >= 0xDC00 && c <= 0xDFFF))
              goto bad;
            g_string_append_unichar (out, c);
            p += 6;
            continue;
          }
        default:
          goto bad;
        }
      g_string_append_c (out, (char) c);
      p += 2;
    }
  return TRUE;

bad:
  g_string_truncate (out, before);
  return FALSE;
}

/* Replaces each raw node's string by its text. Only a string that starts with the marker
 * counts (json-glib wrote the marker's \001 as \u0001): the same characters inside another
 * string are that string's content. */
static char *
splice_raw (char *text)
{
  static const char marker[] = "\\u0001odd-raw\\u0001";
  gsize len, p = 0;
  GString *out;

  if (strstr (text, marker) == NULL)
    return text;

  len = strlen (text);
  out = g_string_sized_new (len);
  while (p < len)
    {
      const char *quote = memchr (text + p, '"', len - p);
      gsize end;

      if (quote == NULL)
        {
          g_string_append_len (out, text + p, (gssize) (len - p));
          break;
        }
      g_string_append_len (out, text + p, quote - (text + p));
      p = (gsize) (quote - text);
      end = skip_string (text, len, p + 1);
      /* the text of a raw node is its string without the marker, unescaped; json-glib wrote
       * the string, so it unescapes; were it not, it stays a string */
      if (!(strncmp (text + p + 1, marker, sizeof marker - 1) == 0
            && end >= p + sizeof marker + 1
            && append_unescaped (out, text + p + sizeof marker,
                                 end - 1 - (p + sizeof marker))))
        g_string_append_len (out, text + p, (gssize) (end - p));
      p = end;
    }
  g_free (text);

  return g_string_free (out, FALSE);
}

char *
odd_json_to_string (JsonNode *node)
{
  char *text;

  g_return_val_if_fail (node != NULL, NULL);

  text = shorten_doubles (json_to_string (node, FALSE));

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

  return splice_raw (text);
}

/* A copy of @data (strictly checked) where every integer beyond 64 bits has "e0" appended,
 * so json-glib reads it as the nearest double instead of wrapping it around. The exact
 * digits survive only as text (odd_json_raw_new()). */
static GString *
widen_big_integers (const char *data,
                    gsize       len)
{
  GString *out = g_string_sized_new (len + 16);
  gsize p = 0;

  while (p < len)
    {
      char c = data[p];

      if (c == '"')
        {
          gsize end = skip_string (data, len, p + 1);

          g_string_append_len (out, data + p, (gssize) (end - p));
          p = end;
        }
      else if (c == '-' || g_ascii_isdigit (c))
        {
          gsize end = p + 1;
          gboolean integer = TRUE;
          g_autofree char *token = NULL;

          while (end < len && (g_ascii_isdigit (data[end]) || strchr (".eE+-", data[end]) != NULL))
            integer &= g_ascii_isdigit (data[end++]);
          token = g_strndup (data + p, end - p);
          g_string_append (out, token);
          if (integer && !g_ascii_string_to_signed (token, 10, G_MININT64, G_MAXINT64, NULL, NULL))
            g_string_append (out, "e0");
          p = end;
        }
      else
        {
          g_string_append_c (out, c);
          p++;
        }
    }

  return out;
}

JsonNode *
odd_json_parse (const char *data,
                gssize      len,
                GError    **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *problem = NULL;
  g_autoptr(GString) widened = NULL;
  gboolean big_integers;
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
  if (!check_strict (data, (gsize) len, ODD_JSON_MAX_DEPTH, &big_integers, &problem))
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, "not valid JSON: %s", problem);
      return NULL;
    }
  if (big_integers)
    {
      widened = widen_big_integers (data, (gsize) len);
      data = widened->str;
      len = (gssize) widened->len;
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

/* Where a value that starts at @p ends (the text passed odd_json_check_strict()). */
static gsize
skip_value (const char *data,
            gsize       len,
            gsize       p)
{
  guint depth = 0;

  do
    {
      char c = data[p];

      if (c == '"')
        {
          p = skip_string (data, len, p + 1);
          continue;
        }
      if (c == '{' || c == '[')
        depth++;
      else if (c == '}' || c == ']')
        depth--;
      else if (depth == 0 && (c == ',' || is_ws (c)))
        break;
      p++;
    }
  while (p < len && depth > 0);

  /* a scalar at the top: up to its end */
  while (p < len && depth == 0 && data[p] != ',' && data[p] != '}' && data[p] != ']' && !is_ws (data[p]))
    p++;

  return p;
}

static gsize
skip_ws (const char *data,
         gsize       len,
         gsize       p)
{
  while (p < len && is_ws (data[p]))
    p++;
  return p;
}

static void
member_clear (gpointer data)
{
  OddJsonMember *member = data;

  g_free (member->name);
}

GArray *
odd_json_object_members (const char *data,
                         gsize       len)
{
  g_autoptr(GArray) members = g_array_new (FALSE, FALSE, sizeof (OddJsonMember));
  gsize p;

  g_return_val_if_fail (data != NULL, NULL);

  g_array_set_clear_func (members, member_clear);
  p = skip_ws (data, len, 0);
  if (p >= len || data[p] != '{')
    return NULL;
  p = skip_ws (data, len, p + 1);

  while (p < len && data[p] == '"')
    {
      gsize name_end = skip_string (data, len, p + 1);
      OddJsonMember member;

      /* A name without escapes is its text (a checked string holds no raw control
       * characters); only an escaped one goes through a parser. */
      if (name_end >= p + 2 && memchr (data + p + 1, '\\', name_end - p - 2) == NULL)
        member.name = g_strndup (data + p + 1, name_end - p - 2);
      else
        {
          g_autofree char *literal = g_strndup (data + p, name_end - p);
          g_autoptr(JsonNode) name = json_from_string (literal, NULL);

          member.name = g_strdup (name != NULL ? json_node_get_string (name) : "");
        }
      p = skip_ws (data, len, name_end);
      p = skip_ws (data, len, p + 1);   /* ':' */
      member.offset = p;
      p = skip_value (data, len, p);
      member.length = p - member.offset;
      g_array_append_val (members, member);
      p = skip_ws (data, len, p);
      if (p < len && data[p] == ',')
        p = skip_ws (data, len, p + 1);
    }

  return g_steal_pointer (&members);
}

GArray *
odd_json_array_elements (const char *data,
                         gsize       len,
                         guint       max_elements)
{
  g_autoptr(GArray) elements = g_array_new (FALSE, FALSE, sizeof (OddJsonSpan));
  gsize p;

  g_return_val_if_fail (data != NULL, NULL);

  p = skip_ws (data, len, 0);
  if (p >= len || data[p] != '[')
    return NULL;
  p = skip_ws (data, len, p + 1);

  while (p < len && data[p] != ']'
         && (max_elements == 0 || elements->len <= max_elements))
    {
      OddJsonSpan element = { p, 0 };

      p = skip_value (data, len, p);
      element.length = p - element.offset;
      g_array_append_val (elements, element);
      p = skip_ws (data, len, p);
      if (p < len && data[p] == ',')
        p = skip_ws (data, len, p + 1);
    }

  return g_steal_pointer (&elements);
}

JsonNode *
odd_json_parse_shallow (const char  *data,
                        gsize        len,
                        GArray      *members)
{
  JsonObject *object;
  JsonNode *root;

  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (members != NULL, NULL);

  object = json_object_new ();
  for (guint i = 0; i < members->len; i++)
    {
      OddJsonMember *member = &g_array_index (members, OddJsonMember, i);
      const char *value = data + member->offset;
      JsonNode *node;

      if (*value == '{')
        {
          node = json_node_new (JSON_NODE_OBJECT);
          json_node_take_object (node, json_object_new ());
        }
      else if (*value == '[')
        {
          node = json_node_new (JSON_NODE_ARRAY);
          json_node_take_array (node, json_array_new ());
        }
      else if (*value == '"' && memchr (value + 1, '\\', member->length - 2) == NULL)
        {
          /* A string without escapes is its text: no parser (a GObject, and a signal per
           * value) for the common case. */
          g_autofree char *text = g_strndup (value + 1, member->length - 2);

          node = json_node_init_string (json_node_alloc (), text);
        }
      else
        node = odd_json_parse (value, (gssize) member->length, NULL);
      if (node == NULL)
        node = json_node_new (JSON_NODE_NULL);
      json_object_set_member (object, member->name, node);
    }

  root = json_node_init_object (json_node_alloc (), object);
  json_object_unref (object);
  return root;
}

/* odd-wt-protocol.c: the frames of the web terminal's WebSocket */
#include "odd-wt-protocol.h"
#include "odd-json.h"

#include <string.h>

#define CLIENT_FRAME_SCHEMA "web-terminal-client-frame"

void
odd_wt_frame_free (OddWtFrame *frame)
{
  if (frame == NULL)
    return;
  if (frame->token != NULL)
    explicit_bzero (frame->token, strlen (frame->token));
  g_free (frame->token);
  g_free (frame->session);
  g_free (frame->data);
  g_free (frame);
}

static const struct {
  const char     *name;
  OddWtFrameType  type;
} frame_types[] = {
  { "auth",      ODD_WT_FRAME_AUTH },
  { "start",     ODD_WT_FRAME_START },
  { "reconnect", ODD_WT_FRAME_RECONNECT },
  { "input",     ODD_WT_FRAME_INPUT },
  { "resize",    ODD_WT_FRAME_RESIZE },
  { "ping",      ODD_WT_FRAME_PING },
};

/* The members each type needs (the schema cannot say which type needs which). */
static gboolean
require (JsonObject  *object,
         const char  *type,
         const char  *member,
         char       **message)
{
  if (json_object_has_member (object, member))
    return TRUE;
  *message = g_strdup_printf ("a %s frame needs \"%s\"", type, member);
  return FALSE;
}

static guint
get_uint (JsonObject *object,
          const char *member)
{
  gint64 value = 0;

  return odd_json_get_int (object, member, &value) ? (guint) value : 0;
}

OddWtFrame *
odd_wt_frame_parse (OddSchemaRegistry  *schemas,
                    const char         *text,
                    gsize               len,
                    char              **message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = odd_json_parse (text, (gssize) len, &error);
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(OddWtFrame) frame = NULL;
  JsonObject *object;
  const char *type;
  gboolean known = FALSE;

  g_return_val_if_fail (message != NULL, NULL);

  if (node == NULL)
    {
      *message = g_strdup_printf ("not JSON: %s", error->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node) ||
      (type = odd_json_get_string (json_node_get_object (node), "type")) == NULL)
    {
      *message = g_strdup ("a frame is a JSON object with a \"type\"");
      return NULL;
    }

  object = json_node_get_object (node);
  frame = g_new0 (OddWtFrame, 1);
  for (guint i = 0; i < G_N_ELEMENTS (frame_types); i++)
    if (strcmp (type, frame_types[i].name) == 0)
      {
        frame->type = frame_types[i].type;
        known = TRUE;
      }
  if (!known)
    {
      g_autofree char *shown = g_utf8_make_valid (type, MIN (strlen (type), 40));

      *message = g_strdup_printf ("unknown frame type \"%s\" (auth, start, reconnect, input, "
                                  "resize, ping)", shown);
      return NULL;
    }

  errors = odd_schema_registry_validate (schemas, CLIENT_FRAME_SCHEMA, node, &error);
  if (errors == NULL)
    {
      *message = g_strdup (error->message);
      return NULL;
    }
  if (errors->len > 0)
    {
      g_autofree char *what = odd_validation_errors_to_string (errors);

      *message = g_strdup_printf ("invalid %s frame: %s", type, what);
      return NULL;
    }

  switch (frame->type)
    {
    case ODD_WT_FRAME_AUTH:
      if (!require (object, type, "token", message))
        return NULL;
      break;
    case ODD_WT_FRAME_RECONNECT:
      if (!require (object, type, "session", message) || !require (object, type, "token", message))
        return NULL;
      break;
    case ODD_WT_FRAME_INPUT:
      if (!require (object, type, "data", message))
        return NULL;
      break;
    case ODD_WT_FRAME_RESIZE:
      if (!require (object, type, "cols", message) || !require (object, type, "rows", message))
        return NULL;
      break;
    case ODD_WT_FRAME_START:
    case ODD_WT_FRAME_PING:
    default:
      break;
    }

  frame->token = g_strdup (odd_json_get_string (object, "token"));
  frame->session = g_strdup (odd_json_get_string (object, "session"));
  frame->data = g_strdup (odd_json_get_string (object, "data"));
  frame->cols = get_uint (object, "cols");
  frame->rows = get_uint (object, "rows");
  return g_steal_pointer (&frame);
}

/* Server frames */

static char *
finish (JsonBuilder *builder)
{
  g_autoptr(JsonNode) node = NULL;

  json_builder_end_object (builder);
  node = json_builder_get_root (builder);
  return odd_json_to_string (node);
}

static JsonBuilder *
begin (const char *type)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  return builder;
}

char *
odd_wt_frame_hello (gboolean auth_required,
                    gboolean read_only)
{
  g_autoptr(JsonBuilder) builder = begin ("hello");

  json_builder_set_member_name (builder, "authRequired");
  json_builder_add_boolean_value (builder, auth_required);
  json_builder_set_member_name (builder, "readOnly");
  json_builder_add_boolean_value (builder, read_only);
  return finish (builder);
}

char *
odd_wt_frame_session (gboolean    reconnected,
                      const char *session_id,
                      const char *reconnect_token,
                      guint       cols,
                      guint       rows)
{
  g_autoptr(JsonBuilder) builder = begin (reconnected ? "reconnected" : "session");

  json_builder_set_member_name (builder, "sessionId");
  json_builder_add_string_value (builder, session_id);
  json_builder_set_member_name (builder, "reconnectToken");
  json_builder_add_string_value (builder, reconnect_token);
  json_builder_set_member_name (builder, "cols");
  json_builder_add_int_value (builder, cols);
  json_builder_set_member_name (builder, "rows");
  json_builder_add_int_value (builder, rows);
  return finish (builder);
}

static char *
frame_with_string (const char *type,
                   const char *member,
                   const char *value)
{
  g_autoptr(JsonBuilder) builder = begin (type);

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
  return finish (builder);
}

char *
odd_wt_frame_output (const char *text)
{
  return frame_with_string ("output", "data", text);
}

char *
odd_wt_frame_notice (const char *message)
{
  return frame_with_string ("notice", "message", message);
}

char *
odd_wt_frame_error (const char *code,
                    const char *message)
{
  g_autoptr(JsonBuilder) builder = begin ("error");

  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  return finish (builder);
}

char *
odd_wt_frame_pong (void)
{
  g_autoptr(JsonBuilder) builder = begin ("pong");

  return finish (builder);
}

char *
odd_wt_frame_exit (int status)
{
  g_autoptr(JsonBuilder) builder = begin ("exit");

  json_builder_set_member_name (builder, "status");
  json_builder_add_int_value (builder, status);
  return finish (builder);
}

/* UTF-8 */

/* The length a lead byte announces, 0 for a continuation or invalid byte. */
static guint
sequence_length (guint8 lead)
{
  if (lead < 0x80)
    return 1;
  if ((lead & 0xE0) == 0xC0)
    return 2;
  if ((lead & 0xF0) == 0xE0)
    return 3;
  if ((lead & 0xF8) == 0xF0)
    return 4;
  return 0;
}

char *
odd_wt_utf8_carry_take (OddWtUtf8Carry *carry,
                        const guint8   *data,
                        gsize           len)
{
  g_autoptr(GByteArray) bytes = g_byte_array_sized_new (carry->n_pending + len);
  gsize complete;
  gsize tail_start;
  GString *text;
  const char *p;
  const char *end;

  g_byte_array_append (bytes, carry->pending, carry->n_pending);
  g_byte_array_append (bytes, data, len);
  carry->n_pending = 0;

  /* Hold back the last sequence when its lead byte announces more bytes than arrived. */
  complete = bytes->len;
  tail_start = bytes->len;
  while (tail_start > 0 && bytes->len - tail_start < 3 && (bytes->data[tail_start - 1] & 0xC0) == 0x80)
    tail_start--;
  if (tail_start > 0)
    {
      guint need = sequence_length (bytes->data[tail_start - 1]);

      if (need > 1 && bytes->len - (tail_start - 1) < need)
        complete = tail_start - 1;
    }
  carry->n_pending = bytes->len - complete;
  memcpy (carry->pending, bytes->data + complete, carry->n_pending);

  /* Invalid bytes become U+FFFD; NUL bytes go. */
  text = g_string_sized_new (complete);
  p = (const char *) bytes->data;
  end = p + complete;
  while (p < end)
    {
      const char *valid_end = NULL;

      g_utf8_validate_len (p, end - p, &valid_end);
      for (const char *q = p; q < valid_end; q++)
        if (*q != '\0')
          g_string_append_c (text, *q);
      p = valid_end;
      if (p < end)
        {
          if (*p != '\0')
            g_string_append (text, "\xEF\xBF\xBD");
          p++;
        }
    }
  return g_string_free (text, FALSE);
}

gboolean
odd_wt_secret_equal (const char *expected,
                     const char *given)
{
  gsize expected_len;
  gsize given_len;
  guint8 diff;

  if (expected == NULL || given == NULL)
    return FALSE;

  /* Every byte of what was given is looked at, whatever matched, and the length of the secret
   * only decides the result at the end. */
  expected_len = strlen (expected);
  given_len = strlen (given);
  diff = expected_len != given_len;
  for (gsize i = 0; i < given_len; i++)
    diff |= (guint8) given[i] ^ (guint8) expected[expected_len > 0 ? i % expected_len : 0];
  return diff == 0 && expected_len > 0;
}

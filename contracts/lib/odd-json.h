/* odd-json.h: strict JSON parsing and safe access to JSON from outside */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deeper input is refused before json-glib (which recurses) sees it. */
#define ODD_JSON_MAX_DEPTH 512

/* RFC 8259 syntax check of @len bytes, iterative; numbers must fit a double. On failure
 * @error_message gets "at byte N: <what>". */
gboolean    odd_json_check_strict (const char  *data,
                                   gsize        len,
                                   char       **error_message);
/* Parses @len bytes (or NUL-terminated when @len < 0) after the UTF-8 and strict checks;
 * NULL + error (JSON_PARSER_ERROR) when not JSON. The result is mutable. */
JsonNode   *odd_json_parse        (const char  *data,
                                   gssize       len,
                                   GError     **error);
/* Serialises compactly (no newlines). */
char       *odd_json_to_string    (JsonNode    *node);

/* Typed member getters that return NULL / FALSE instead of emitting a critical when the member
 * is missing or of another type: for JSON that came from outside. */
const char *odd_json_get_string   (JsonObject  *object,
                                   const char  *name);
gboolean    odd_json_get_int      (JsonObject  *object,
                                   const char  *name,
                                   gint64      *value);
JsonObject *odd_json_get_object   (JsonObject  *object,
                                   const char  *name);

G_END_DECLS

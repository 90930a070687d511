/* odd-json.h: strict JSON parsing and safe access to JSON from outside */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deeper input is refused before json-glib (which recurses) sees it. */
#define ODD_JSON_MAX_DEPTH 512

/* RFC 8259 syntax check of @len bytes, iterative; numbers must fit a double and what
 * PostgreSQL's numeric stores (at most 16383 digits after the decimal point). On failure
 * @error_message gets "at byte N: <what>". */
gboolean    odd_json_check_strict (const char  *data,
                                   gsize        len,
                                   char       **error_message);
/* odd_json_check_strict() with a lower nesting bound (at most ODD_JSON_MAX_DEPTH). */
gboolean    odd_json_check_strict_depth (const char  *data,
                                         gsize        len,
                                         guint        max_depth,
                                         char       **error_message);
/* Parses @len bytes (or NUL-terminated when @len < 0) after the UTF-8 and strict checks;
 * NULL + error (JSON_PARSER_ERROR) when not JSON. The result is mutable. An integer beyond
 * 64 bits is read as the nearest double (json-glib would wrap it around). */
JsonNode   *odd_json_parse        (const char  *data,
                                   gssize       len,
                                   GError     **error);
/* Serialises compactly (no newlines); raw nodes (odd_json_raw_new()) as their text. */
char       *odd_json_to_string    (JsonNode    *node);

/* A node that odd_json_to_string() writes as @json_text, verbatim (@len bytes, or up to the
 * NUL when @len < 0): JSON whose numbers must keep their exact digits. @json_text must be
 * valid JSON. Elsewhere (json-glib's own writer, the validator) it is an opaque string. */
JsonNode   *odd_json_raw_new      (const char  *json_text,
                                   gssize       len);
/* The text of a raw node, NULL for any other node. */
const char *odd_json_raw_get_text (JsonNode    *node);

/* A member of an object, located in its text. */
typedef struct {
  char  *name;     /* decoded */
  gsize  offset;   /* of its value */
  gsize  length;   /* of its value */
} OddJsonMember;

/* The members of the object written in @data (text that passed odd_json_check_strict()), in
 * order, without parsing their values; NULL when it is not an object. */
GArray     *odd_json_object_members (const char *data,
                                     gsize       len);
/* Where a value is written in a text. */
typedef struct {
  gsize  offset;
  gsize  length;
} OddJsonSpan;

/* The elements of the array written in @data (text that passed odd_json_check_strict()), in
 * order, as the spans of their texts, without parsing them; NULL when it is not an array.
 * With @max_elements > 0 it stops after @max_elements + 1 of them (more than allowed: the
 * caller needs no more to say so). */
GArray     *odd_json_array_elements (const char *data,
                                     gsize       len,
                                     guint       max_elements);
/* The object of @members (from odd_json_object_members() on @data) with its scalar members
 * parsed and its object and array members left empty: enough to check the members' types at
 * the cost of the top level alone, whatever is nested. */
JsonNode   *odd_json_parse_shallow  (const char *data,
                                     gsize       len,
                                     GArray     *members);

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

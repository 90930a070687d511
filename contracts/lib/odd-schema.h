/* odd-schema.h: JSON Schema (draft-07 subset) registry and validator
 *
 * Supported keywords: type, required, properties, additionalProperties (bool or schema),
 * enum, const, pattern, format (uuid, date-time), minLength, maxLength, minimum, maximum,
 * items, minItems, maxItems, local $ref ("#/definitions/x", "#/$defs/x"), and ajv-formats'
 * formatMinimum / formatMaximum for date-times (compared as instants).
 * A registry is immutable once loaded, so validation is safe from any thread.
 *
 * Loading is strict: an unsupported keyword (anyOf, uniqueItems, a typo...) or format makes
 * the schema ODD_SCHEMA_ERROR_INVALID rather than silently unchecked. Annotations ($schema, $id,
 * $version, $comment, title, description, default, examples, readOnly, writeOnly) and "x-*"
 * keys are ignored.
 *
 * Errors (ajv-like): the path is the RFC 6901 pointer of the offending value; for `required`
 * and `additionalProperties: false` it is the object holding (or missing) the property.
 * Messages: "must be string", "must be string or null", "must have required property 'id'",
 * "must NOT have additional property 'x'", "must be equal to one of the allowed values: A, B",
 * "must be equal to constant", "must match pattern \"re\"", "must be a valid uuid",
 * "must be a valid RFC 3339 date-time", "must NOT have fewer than N characters|items",
 * "must NOT have more than N characters|items", "must be >= N", "must be <= N",
 * "must not be before T", "must not be after T".
 * A value of the wrong type gets only its type error. Instances nested deeper than 64 levels
 * get one error, "must NOT be nested deeper than 64 levels", at the root.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define ODD_SCHEMA_ERROR (odd_schema_error_quark ())
GQuark odd_schema_error_quark (void);

typedef enum {
  ODD_SCHEMA_ERROR_NOT_FOUND,   /* no such schema name */
  ODD_SCHEMA_ERROR_INVALID,     /* a schema file is not a valid schema */
  ODD_SCHEMA_ERROR_PARSE,       /* instance text is not JSON */
} OddSchemaError;

typedef struct {
  char *path;     /* JSON pointer into the instance, "" for the root */
  char *message;  /* one line, English */
} OddValidationError;

void                odd_validation_error_free      (OddValidationError *error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OddValidationError, odd_validation_error_free)

#define ODD_TYPE_SCHEMA_REGISTRY (odd_schema_registry_get_type ())
G_DECLARE_FINAL_TYPE (OddSchemaRegistry, odd_schema_registry, ODD, SCHEMA_REGISTRY, GObject)

OddSchemaRegistry  *odd_schema_registry_new         (void);
/* Loads every *.json of @dir; each schema is known by its file stem ("job") and by its $id. */
gboolean            odd_schema_registry_load_dir    (OddSchemaRegistry  *self,
                                                     const char         *dir,
                                                     GError            **error);
gboolean            odd_schema_registry_load_file   (OddSchemaRegistry  *self,
                                                     const char         *path,
                                                     GError            **error);
/* The contracts directory: $CONTRACTS_PATH, else the installed data dir, else the source tree. */
char               *odd_contracts_dir               (void);
/* A registry loaded from odd_contracts_dir()/schemas. */
OddSchemaRegistry  *odd_schema_registry_new_default (GError            **error);

gboolean            odd_schema_registry_has         (OddSchemaRegistry  *self,
                                                     const char         *name);
/* The schema document (owned by the registry, sealed), or NULL. Names: the stem, "stem.json", $id. */
JsonNode           *odd_schema_registry_get_schema  (OddSchemaRegistry  *self,
                                                     const char         *name);
/* Returns every error (GPtrArray of OddValidationError, empty when valid),
 * or NULL with @error set when @schema_name is unknown. */
GPtrArray          *odd_schema_registry_validate    (OddSchemaRegistry  *self,
                                                     const char         *schema_name,
                                                     JsonNode           *instance,
                                                     GError            **error);
/* [{"path": ..., "message": ...}, ...] */
JsonNode           *odd_validation_errors_to_json   (GPtrArray          *errors);
/* "path: message; path: message" (for dead letters and logs); the root path shows as "(root)" */
char               *odd_validation_errors_to_string (GPtrArray          *errors);

G_END_DECLS

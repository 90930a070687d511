/* test-malformed.c: bad requests get their documented 4xx and a contract error body
 *
 * A table of malformed requests against the gateway and the read-model. Each must answer
 * its status with an application/json body valid against contracts schema "error", leave
 * both services healthy, and accept no job. A valid job at the end proves the "no job
 * accepted" check can see one.
 */
#define G_LOG_DOMAIN "test-malformed"

#include <string.h>
#include <gio/gio.h>

#include "odd-it.h"
#include "odd-contracts.h"

typedef enum {
  GW,
  RM,
} Target;

typedef struct {
  const char *name;
  Target      target;
  const char *method;
  const char *path;          /* "%s" is replaced by a fresh uuid */
  const char *content_type;  /* NULL: no body at all */
  char     *(*make_body) (gsize *len);
  const char *body;          /* used when make_body is NULL */
  guint       status;
} Case;

static OddIt *it;
static OddSchemaRegistry *registry;

static char *
body_too_large (gsize *len)
{
  /* 1 MiB + 1 of an otherwise valid job: the limit is on bytes, not on content */
  gsize n = 1024 * 1024 + 1;
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *head = g_strdup_printf ("{\"id\":\"%s\",\"type\":\"big\",\"status\":\"PENDING\","
                                           "\"createdAt\":\"2026-01-01T00:00:00Z\",\"payload\":{\"pad\":\"",
                                           id);
  char *body = g_malloc (n + 1);
  gsize h = strlen (head);

  memcpy (body, head, h);
  memset (body + h, 'x', n - h - 3);
  memcpy (body + n - 3, "\"}}", 3);
  body[n] = '\0';
  *len = n;
  return body;
}

static char *
body_deep (gsize *len)
{
  GString *s = g_string_new ("{\"type\":\"deep\",\"payload\":");
  const guint depth = 10000;

  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, '}');
  *len = s->len;
  return g_string_free (s, FALSE);
}

static char *
body_deep_objects (gsize *len)
{
  GString *s = g_string_new ("");
  const guint depth = 10000;

  for (guint i = 0; i < depth; i++)
    g_string_append (s, "{\"a\":");
  g_string_append (s, "1");
  for (guint i = 0; i < depth; i++)
    g_string_append_c (s, '}');
  *len = s->len;
  return g_string_free (s, FALSE);
}

static char *
body_bad_utf8 (gsize *len)
{
  static const char body[] = "{\"type\":\"bad-\xff\xfe-utf8\",\"payload\":{}}";

  *len = sizeof body - 1;
  return g_memdup2 (body, *len);
}

static char *
body_nul (gsize *len)
{
  static const char body[] = "{\"type\":\"nul\0byte\",\"payload\":{}}";

  *len = sizeof body - 1;
  return g_memdup2 (body, *len);
}

static char *
body_huge_type (gsize *len)
{
  GString *s = g_string_new ("{\"type\":\"");

  for (guint i = 0; i < 100 * 1024; i++)
    g_string_append_c (s, 'a' + i % 26);
  g_string_append (s, "\",\"payload\":{}}");
  *len = s->len;
  return g_string_free (s, FALSE);
}

static char *
body_type_201 (gsize *len)
{
  g_autofree char *type = g_strnfill (201, 't');
  char *body = g_strdup_printf ("{\"type\":\"%s\",\"payload\":{}}", type);

  *len = strlen (body);
  return body;
}

/* A full job, each field given */
#define FULL(id, type, status, created, payload) \
  "{\"id\":" id ",\"type\":" type ",\"status\":" status ",\"createdAt\":" created ",\"payload\":" payload "}"
#define ID "\"0d7c2a6e-5f1b-4c1e-9a7e-3c1f2b4d5e6f\""
#define AT "\"2026-01-01T00:00:00.000Z\""

static const Case cases[] = {
  /* ---- gateway: POST /jobs body ---- */
  { "text/plain content type", GW, "POST", "/jobs", "text/plain", NULL, "{\"type\":\"t\"}", 415 },
  { "form content type", GW, "POST", "/jobs", "application/x-www-form-urlencoded", NULL, "type=t", 415 },
  { "1 MiB + 1 body", GW, "POST", "/jobs", "application/json", body_too_large, NULL, 413 },
  { "truncated JSON", GW, "POST", "/jobs", "application/json", NULL, "{\"type\":", 400 },
  { "empty body", GW, "POST", "/jobs", "application/json", NULL, "", 400 },
  { "JSON array", GW, "POST", "/jobs", "application/json", NULL, "[{\"type\":\"t\"}]", 400 },
  { "JSON number", GW, "POST", "/jobs", "application/json", NULL, "42", 400 },
  { "JSON string", GW, "POST", "/jobs", "application/json", NULL, "\"job\"", 400 },
  { "JSON null", GW, "POST", "/jobs", "application/json", NULL, "null", 400 },
  { "trailing garbage", GW, "POST", "/jobs", "application/json", NULL, "{\"type\":\"t\"} x", 400 },
  { "empty object (no type)", GW, "POST", "/jobs", "application/json", NULL, "{}", 400 },
  { "full job without type", GW, "POST", "/jobs", "application/json", NULL,
    "{\"id\":" ID ",\"status\":\"PENDING\",\"createdAt\":" AT "}", 400 },
  { "type is a number", GW, "POST", "/jobs", "application/json", NULL, "{\"type\":7}", 400 },
  { "type is null", GW, "POST", "/jobs", "application/json", NULL, "{\"type\":null}", 400 },
  { "bad uuid", GW, "POST", "/jobs", "application/json", NULL,
    FULL ("\"not-a-uuid\"", "\"t\"", "\"PENDING\"", AT, "{}"), 400 },
  { "id is a number", GW, "POST", "/jobs", "application/json", NULL,
    FULL ("12", "\"t\"", "\"PENDING\"", AT, "{}"), 400 },
  { "bad createdAt", GW, "POST", "/jobs", "application/json", NULL,
    FULL (ID, "\"t\"", "\"PENDING\"", "\"yesterday\"", "{}"), 400 },
  { "createdAt without offset", GW, "POST", "/jobs", "application/json", NULL,
    FULL (ID, "\"t\"", "\"PENDING\"", "\"2026-01-01T00:00:00\"", "{}"), 400 },
  { "status COMPLETED", GW, "POST", "/jobs", "application/json", NULL,
    FULL (ID, "\"t\"", "\"COMPLETED\"", AT, "{}"), 400 },
  { "status not in the enum", GW, "POST", "/jobs", "application/json", NULL,
    FULL (ID, "\"t\"", "\"DONE\"", AT, "{}"), 400 },
  { "payload is a string", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"payload\":\"x\"}", 400 },
  { "simulate failRate 2", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"payload\":{\"simulate\":{\"failRate\":2}}}", 400 },
  { "simulate durationMs -1", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":-1}}}", 400 },
  { "simulate durationMs 600001", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":600001}}}", 400 },
  { "simulate failAttempts 101", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"payload\":{\"simulate\":{\"failAttempts\":101}}}", 400 },
  { "simulate extra key", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":1,\"explode\":true}}}", 400 },
  { "simulate not an object", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"payload\":{\"simulate\":\"fast\"}}", 400 },
  { "simulate durationMs a string", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":\"10\"}}}", 400 },
  { "10,000-deep arrays", GW, "POST", "/jobs", "application/json", body_deep, NULL, 400 },
  { "10,000-deep objects", GW, "POST", "/jobs", "application/json", body_deep_objects, NULL, 400 },
  { "invalid UTF-8", GW, "POST", "/jobs", "application/json", body_bad_utf8, NULL, 400 },
  { "NUL byte in a string", GW, "POST", "/jobs", "application/json", body_nul, NULL, 400 },
  { "type of 201 characters", GW, "POST", "/jobs", "application/json", body_type_201, NULL, 400 },
  { "createdAt in year 0000", GW, "POST", "/jobs", "application/json", NULL,
    FULL (ID, "\"t\"", "\"PENDING\"", "\"0000-12-31T23:59:59Z\"", "{}"), 400 },
  { "createdAt past 9999 in UTC", GW, "POST", "/jobs", "application/json", NULL,
    FULL (ID, "\"t\"", "\"PENDING\"", "\"9999-12-31T23:30:00-01:00\"", "{}"), 400 },
  { "simulate durationMs 1e300", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":1e300}}}", 400 },
  { "number PostgreSQL cannot store", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"payload\":{\"n\":1e-16384}}", 400 },
  { "member given twice", GW, "POST", "/jobs", "application/json", NULL,
    "{\"type\":\"t\",\"type\":\"u\"}", 400 },
  { "POST /healthz with a body", GW, "POST", "/healthz", "application/json", NULL, "{\"type\":\"t\"}", 405 },
  { "GET /healthz with a body", GW, "GET", "/healthz", "application/json", NULL, "{}", 413 },
  /* ---- gateway: routes and methods ---- */
  { "GET /jobs on the gateway", GW, "GET", "/jobs", NULL, NULL, NULL, 405 },
  { "PUT /jobs", GW, "PUT", "/jobs", "application/json", NULL, "{\"type\":\"t\"}", 405 },
  { "DELETE /jobs", GW, "DELETE", "/jobs", NULL, NULL, NULL, 405 },
  { "unknown gateway path", GW, "GET", "/no/such/path", NULL, NULL, NULL, 404 },
  { "retry of a bad uuid", GW, "POST", "/jobs/not-a-uuid/retry", NULL, NULL, NULL, 400 },
  { "retry of an unknown job", GW, "POST", "/jobs/%s/retry", NULL, NULL, NULL, 404 },
  { "GET on retry", GW, "GET", "/jobs/%s/retry", NULL, NULL, NULL, 405 },
  { "GET /dlq/replay", GW, "GET", "/dlq/replay", NULL, NULL, NULL, 405 },
  { "replay limit 0", GW, "POST", "/dlq/replay", "application/json", NULL, "{\"limit\":0}", 400 },
  { "replay limit text", GW, "POST", "/dlq/replay", "application/json", NULL, "{\"limit\":\"all\"}", 400 },
  { "replay body an array", GW, "POST", "/dlq/replay", "application/json", NULL, "[1]", 400 },
  { "replay body malformed", GW, "POST", "/dlq/replay", "application/json", NULL, "{", 400 },
  /* ---- read-model ---- */
  { "read-model job bad uuid", RM, "GET", "/jobs/not-a-uuid", NULL, NULL, NULL, 400 },
  { "read-model unknown job", RM, "GET", "/jobs/%s", NULL, NULL, NULL, 404 },
  { "status BOGUS", RM, "GET", "/jobs?status=BOGUS", NULL, NULL, NULL, 400 },
  { "cursor garbage", RM, "GET", "/jobs?cursor=garbage", NULL, NULL, NULL, 400 },
  { "limit -1", RM, "GET", "/jobs?limit=-1", NULL, NULL, NULL, 400 },
  { "limit not a number", RM, "GET", "/jobs?limit=ten", NULL, NULL, NULL, 400 },
  { "events jobId x", RM, "GET", "/events?jobId=x", NULL, NULL, NULL, 400 },
  { "series window 0", RM, "GET", "/stats/series?window=0", NULL, NULL, NULL, 400 },
  { "series window text", RM, "GET", "/stats/series?window=soon", NULL, NULL, NULL, 400 },
  { "POST /stats", RM, "POST", "/stats", "application/json", NULL, "{}", 405 },
  { "dlq limit 0", RM, "GET", "/dlq?limit=0", NULL, NULL, NULL, 400 },
  { "dlq limit 501", RM, "GET", "/dlq?limit=501", NULL, NULL, NULL, 400 },
  { "jobs limit 501", RM, "GET", "/jobs?limit=501", NULL, NULL, NULL, 400 },
  { "DELETE /jobs on the read-model", RM, "DELETE", "/jobs", NULL, NULL, NULL, 405 },
  { "unknown read-model path", RM, "GET", "/no/such/path", NULL, NULL, NULL, 404 },
};

static gint64
jobs_in_table (void)
{
  PGconn *conn = odd_it_pg (it);
  gint64 n = odd_it_pg_int (conn, "SELECT count(*) FROM jobs", NULL);

  PQfinish (conn);
  return n;
}

static void
assert_error_body (const Case    *c,
                   OddItResponse *r)
{
  g_autoptr (GPtrArray) errors = NULL;
  g_autoptr (GError) error = NULL;

  if (r->json == NULL)
    g_error ("%s: %u answer is not JSON", c->name, r->status);
  g_assert_cmpstr (r->content_type, ==, "application/json");
  errors = odd_schema_registry_validate (registry, "error", r->json, &error);
  g_assert_no_error (error);
  if (errors->len > 0)
    {
      g_autofree char *text = odd_validation_errors_to_string (errors);

      g_error ("%s: error body breaks contract error.json: %s", c->name, text);
    }
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *path = NULL;
  g_autofree char *url = NULL;
  g_autofree char *made = NULL;
  g_autoptr (OddItResponse) r = NULL;
  const char *body = c->body;
  gsize len = body != NULL ? strlen (body) : 0;

  if (strstr (c->path, "%s") != NULL)
    {
      g_autofree char *id = odd_uuid_new ();
      g_auto (GStrv) parts = g_strsplit (c->path, "%s", 2);

      path = g_strconcat (parts[0], id, parts[1], NULL);
    }
  else
    path = g_strdup (c->path);
  url = g_strconcat (c->target == GW ? odd_it_gateway_url (it) : odd_it_read_model_url (it), path, NULL);

  if (c->make_body != NULL)
    {
      made = c->make_body (&len);
      body = made;
    }

  r = odd_it_request (c->method, url, c->content_type, c->content_type != NULL ? body : NULL, len);
  if (r->status != c->status)
    g_error ("%s: %s %s answered %u (%s), expected %u", c->name, c->method, path, r->status,
             r->transport_error ? r->transport_error : "", c->status);
  if (r->transport_error == NULL)
    assert_error_body (c, r);
}

/* Jobs the tests below had accepted on purpose (the rest must have accepted none). */
static gint64 accepted_jobs;

/* job.json decides whether a 100 KB type is valid: accepted if it sets no maxLength. */

static void
test_huge_type (void)
{
  JsonNode *schema = odd_schema_registry_get_schema (registry, "job");  /* borrowed */
  JsonObject *type_schema;
  g_autofree char *url = NULL;
  g_autofree char *huge = NULL;
  g_autoptr (OddItResponse) r = NULL;
  gint64 max_length = -1;
  guint expected;
  gsize len;

  g_assert_nonnull (schema);
  type_schema = json_object_get_object_member (json_object_get_object_member (json_node_get_object (schema),
                                                                              "properties"), "type");
  if (json_object_has_member (type_schema, "maxLength"))
    max_length = json_object_get_int_member (type_schema, "maxLength");
  expected = max_length >= 0 && max_length < 100 * 1024 ? 400 : 202;
  g_test_message ("job.json type maxLength %" G_GINT64_FORMAT ": a 100 KB type must get %u",
                  max_length, expected);

  huge = body_huge_type (&len);
  url = g_strconcat (odd_it_gateway_url (it), "/jobs", NULL);
  r = odd_it_request ("POST", url, "application/json", huge, len);
  g_assert_cmpuint (r->status, ==, expected);
  if (expected == 202)
    {
      odd_it_assert_valid ("job-accepted", r->json);
      accepted_jobs++;
    }
  else
    odd_it_assert_valid ("error", r->json);
}

/* Each 400 names the limit it enforces. */
static void
test_limits_named (void)
{
  static const struct {
    const char *body;
    const char *path;
    const char *message;
  } limits[] = {
    { NULL, "/type", "must NOT have more than 200 characters" },
    { "{\"type\":\"t\",\"createdAt\":\"0000-06-01T00:00:00Z\"}", "/createdAt", "must not be before 0001-01-01T00:00:00Z" },
    { "{\"type\":\"t\",\"createdAt\":\"9999-12-31T23:59:60Z\"}", "/createdAt", "must not be after 9999-12-31T23:59:59.999999Z" },
    { "{\"type\":\"t\",\"payload\":{\"simulate\":{\"durationMs\":1e300}}}", "/payload/simulate/durationMs", "must be <= 600000" },
    { "{\"type\":\"t\",\"payload\":{\"simulate\":{\"failAttempts\":-1e300}}}", "/payload/simulate/failAttempts", "must be >= 0" },
    { "{\"type\":\"t\",\"payload\":{\"x\":0.5e-16383}}", "", "more than 16383 digits after the decimal point" },
    { "{\"type\":\"t\",\"payload\":{\"x\":1e999}}", "", "number out of range" },
  };
  g_autofree char *url = g_strconcat (odd_it_gateway_url (it), "/jobs", NULL);
  g_autofree char *long_type = g_strnfill (201, 'y');

  for (guint i = 0; i < G_N_ELEMENTS (limits); i++)
    {
      g_autofree char *body = limits[i].body != NULL ? g_strdup (limits[i].body)
                                                     : g_strdup_printf ("{\"type\":\"%s\"}", long_type);
      g_autoptr (OddItResponse) r = odd_it_request ("POST", url, "application/json", body, strlen (body));
      JsonObject *detail;

      g_test_message ("%s", body);
      g_assert_cmpuint (r->status, ==, 400);
      odd_it_assert_valid ("error", r->json);
      detail = json_array_get_object_element (json_object_get_array_member (json_node_get_object (r->json), "details"), 0);
      g_assert_cmpstr (json_object_get_string_member (detail, "path"), ==, limits[i].path);
      if (strstr (json_object_get_string_member (detail, "message"), limits[i].message) == NULL)
        g_error ("%s: \"%s\" does not say \"%s\"", body, json_object_get_string_member (detail, "message"),
                 limits[i].message);
    }
}

typedef struct {
  const char *id;
  const char *status;
} Terminal;

static gboolean
job_is (OddIt    *self,
        gpointer  data)
{
  const Terminal *t = data;
  g_autofree char *url = odd_it_url (odd_it_read_model_url (self), "/jobs/%s", t->id);
  g_autoptr (OddItResponse) r = odd_it_request ("GET", url, NULL, NULL, 0);
  JsonObject *job;

  if (r->status != 200 || r->json == NULL)
    return FALSE;
  job = json_object_get_object_member (json_node_get_object (r->json), "job");
  return g_strcmp0 (json_object_get_string_member (job, "status"), t->status) == 0;
}

/* The text of member @name of the object written in @text (NULL when absent). */
static char *
member_text (const char *text,
             gsize       len,
             const char *name)
{
  g_autoptr (GArray) members = odd_json_object_members (text, len);

  for (guint i = 0; members != NULL && i < members->len; i++)
    {
      OddJsonMember *m = &g_array_index (members, OddJsonMember, i);

      if (g_str_equal (m->name, name))
        return g_strndup (text + m->offset, m->length);
    }
  return NULL;
}

/* Numbers json-glib cannot hold (1e19 once came back as {} and lost payload.simulate, the
 * job completing at once) reach the database and come back from GET /jobs/{id} exactly. */
static void
test_exact_payload (void)
{
  const char *payload = "{\"n\":1e19,\"d\":0.1,\"big\":123456789012345678901234567890,"
                        "\"tiny\":1e-400,\"neg\":-9223372036854775809,\"s\":\"\\u00e9\",\"nested\":[{\"x\":1.10}],"
                        "\"simulate\":{\"failAttempts\":5,\"durationMs\":1}}";
  g_autofree char *id = odd_uuid_new ();
  g_autofree char *body = g_strdup_printf ("{\"id\":\"%s\",\"type\":\"exact\",\"payload\":%s}", id, payload);
  g_autofree char *url = g_strconcat (odd_it_gateway_url (it), "/jobs", NULL);
  g_autofree char *job_url = odd_it_url (odd_it_read_model_url (it), "/jobs/%s", id);
  g_autoptr (OddItResponse) accepted = odd_it_request ("POST", url, "application/json", body, strlen (body));
  g_autoptr (OddItResponse) detail = NULL;
  g_autofree char *job_text = NULL;
  g_autofree char *answered = NULL;
  Terminal failed = { id, "FAILED" };
  const char *text;
  gsize len;
  PGconn *conn;
  const char *params[2];
  PGresult *res;
  JsonObject *job;

  g_assert_cmpuint (accepted->status, ==, 202);
  accepted_jobs++;
  /* payload.simulate kept: all three attempts fail */
  g_assert_true (odd_it_wait (it, job_is, &failed, 120, 200));

  detail = odd_it_request ("GET", job_url, NULL, NULL, 0);
  g_assert_cmpuint (detail->status, ==, 200);
  job = json_object_get_object_member (json_node_get_object (detail->json), "job");
  g_assert_cmpint (json_object_get_int_member (job, "attempts"), ==, 3);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (job, "payload")));

  /* the answer's payload, as text, next to the stored one and the one sent */
  text = g_bytes_get_data (detail->body, &len);
  job_text = member_text (text, len, "job");
  answered = member_text (job_text, strlen (job_text), "payload");
  g_test_message ("sent %s, answered %s", payload, answered);
  conn = odd_it_pg (it);
  params[0] = id;
  params[1] = answered;
  res = PQexecParams (conn,
                      "SELECT payload = (SELECT (envelope->'payload'->'payload') FROM job_events "
                      "WHERE job_id = $1::uuid AND event_type = 'job.failed'), "
                      "payload::text = $2, payload = $2::jsonb FROM jobs WHERE id = $1::uuid",
                      2, NULL, params, NULL, NULL, 0);
  g_assert_cmpint (PQresultStatus (res), ==, PGRES_TUPLES_OK);
  g_assert_cmpint (PQntuples (res), ==, 1);
  g_assert_cmpstr (PQgetvalue (res, 0, 0), ==, "t");   /* the events carry it exactly too */
  g_assert_cmpstr (PQgetvalue (res, 0, 1), ==, "t");   /* answered as stored */
  PQclear (res);
  params[1] = payload;
  res = PQexecParams (conn, "SELECT payload = $2::jsonb FROM jobs WHERE id = $1::uuid",
                      2, NULL, params, NULL, NULL, 0);
  g_assert_cmpstr (PQgetvalue (res, 0, 0), ==, "t");   /* stored as sent, digit for digit */
  PQclear (res);
  PQfinish (conn);
}

/* The first and the last instant job.json allows are stored, processed and read back. */
static void
test_created_at_edges (void)
{
  static const struct {
    const char *sent;
    const char *read;
  } edges[] = {
    { "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z" },
    { "0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00.000Z" },
    { "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z" },
    { "9999-12-31T22:59:59.999-01:00", "9999-12-31T23:59:59.999Z" },
  };
  g_autofree char *url = g_strconcat (odd_it_gateway_url (it), "/jobs", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (edges); i++)
    {
      g_autofree char *id = odd_uuid_new ();
      g_autofree char *body = g_strdup_printf ("{\"id\":\"%s\",\"type\":\"edge\",\"status\":\"PENDING\","
                                               "\"createdAt\":\"%s\",\"payload\":{}}", id, edges[i].sent);
      g_autoptr (OddItResponse) r = odd_it_request ("POST", url, "application/json", body, strlen (body));
      Terminal completed = { id, "COMPLETED" };
      JsonObject *job;
      JsonArray *timeline;
      g_autoptr (JsonNode) detail = NULL;

      g_test_message ("%s", edges[i].sent);
      g_assert_cmpuint (r->status, ==, 202);
      accepted_jobs++;
      g_assert_true (odd_it_wait (it, job_is, &completed, 120, 200));
      detail = odd_it_get_job (it, id, &job, &timeline);
      g_assert_cmpstr (json_object_get_string_member (job, "createdAt"), ==, edges[i].read);
    }
}

static void
test_still_healthy (void)
{
  static const char *const paths[] = { "/healthz", "/readyz" };
  g_autofree char *id = odd_uuid_new ();
  gint64 before;

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (JsonNode) gw = odd_it_get_json (odd_it_gateway_url (it), paths[i]);
      g_autoptr (JsonNode) rm = odd_it_get_json (odd_it_read_model_url (it), paths[i]);

      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (gw), "status"), ==, "ok");
      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (rm), "status"), ==, "ok");
    }

  /* none of the malformed requests became a job (give a stray one time to be processed) */
  for (guint i = 0; i < 50 && jobs_in_table () < accepted_jobs; i++)
    g_usleep (100 * 1000);
  g_usleep (2 * G_USEC_PER_SEC);
  before = jobs_in_table ();
  g_assert_cmpint (before, ==, accepted_jobs);

  /* and the check above can see a job when one is accepted */
  g_assert_cmpuint (odd_it_submit (it, id, "it-control", NULL), ==, 202);
  for (guint i = 0; i < 100 && jobs_in_table () == before; i++)
    g_usleep (100 * 1000);
  g_assert_cmpint (jobs_in_table (), ==, before + 1);
}

/* Clients that close their keep-alive connection after one answer (curl, scripts) must not
 * cost the server a file descriptor each: a server that keeps them (CLOSE-WAIT) stops
 * accepting once it reaches its descriptor limit. */
static void
churn (const char *base,
       const char *service)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GUri) uri = g_uri_parse (base, G_URI_FLAGS_NONE, NULL);
  const guint n = 1000;
  int before, after = -1;

  before = odd_it_count_fds (it, service);
  if (before < 0)
    {
      g_test_skip ("no pid for the service (external stack)");
      return;
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocketConnection) conn = NULL;
      g_autofree char *request = NULL;
      char buf[4096];
      gssize got;

      conn = g_socket_client_connect_to_host (client, g_uri_get_host (uri), g_uri_get_port (uri), NULL, &error);
      g_assert_no_error (error);
      /* HTTP/1.1 without "Connection: close": the server keeps it open, the client hangs up */
      request = g_strdup_printf ("GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", g_uri_get_host (uri));
      g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request,
                                 strlen (request), NULL, NULL, &error);
      g_assert_no_error (error);
      got = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (conn)), buf, sizeof buf - 1,
                                 NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (got, >, 12);
      buf[got] = '\0';
      g_assert_true (g_str_has_prefix (buf, "HTTP/1.1 200"));
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
    }

  /* the server notices the hang-ups on its own time: allow it a moment */
  for (guint i = 0; i < 50; i++)
    {
      after = odd_it_count_fds (it, service);
      if (after - before < 50)
        break;
      g_usleep (100 * 1000);
    }
  g_test_message ("%s: %d descriptors before %u short connections, %d after", service, before, n, after);
  g_assert_cmpint (after - before, <, 50);
}

static void
test_churn_gateway (void)
{
  churn (odd_it_gateway_url (it), ODD_IT_GATEWAY);
}

static void
test_churn_read_model (void)
{
  churn (odd_it_read_model_url (it), ODD_IT_READ_MODEL);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  registry = odd_schema_registry_new_default (&error);
  g_assert_no_error (error);
  g_assert_true (odd_schema_registry_has (registry, "error"));

  it = odd_it_start ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/malformed/%02u", i);

      g_test_add_data_func (name, &cases[i], test_case);
    }
  g_test_add_func ("/malformed/huge-type", test_huge_type);
  g_test_add_func ("/malformed/limits-named", test_limits_named);
  g_test_add_func ("/malformed/exact-payload", test_exact_payload);
  g_test_add_func ("/malformed/created-at-edges", test_created_at_edges);
  g_test_add_func ("/malformed/still-healthy", test_still_healthy);
  /* last: a server that fails these may have few descriptors left */
  g_test_add_func ("/malformed/connection-churn/gateway", test_churn_gateway);
  g_test_add_func ("/malformed/connection-churn/read-model", test_churn_read_model);
  ret = g_test_run ();

  odd_it_stop (it);
  g_object_unref (registry);
  return ret;
}

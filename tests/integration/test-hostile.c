/* test-hostile.c: hostile HTTP at the socket level against the gateway and the read-model
 *
 * What a well-behaved HTTP client cannot send: huge and numerous headers, a client that
 * sends a byte a second (slowloris), invalid UTF-8 in the request line, request smuggling,
 * lying Content-Length, pipelining, HTTP/1.0, and JSON numbers no double holds. Each has its
 * expected answer (a 4xx, or the connection closed); afterwards both services are healthy and
 * not one job was accepted.
 *
 * Copyright 2026 The Distributed Task Observatory authors
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "test-hostile"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>

#include "odd-it.h"
#include "odd-contracts.h"

/* services/common/odd-http.c: a request must be read within this time */
#define REQUEST_READ_TIMEOUT_S 30

static OddIt *it;
static guint gateway_port;
static guint read_model_port;
static gint64 jobs_at_start;

typedef struct {
  gboolean    write_failed;  /* the server closed or reset while we were sending */
  gboolean    timed_out;     /* nothing more came, and the connection stayed open */
  gboolean    reset;         /* the read ended with an error other than a timeout */
  GByteArray *reply;         /* everything read */
} Exchange;

static void
exchange_free (Exchange *ex)
{
  g_byte_array_unref (ex->reply);
  g_free (ex);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Exchange, exchange_free)

static GSocketConnection *
connect_to (guint port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  GSocketConnection *conn;

  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  return conn;
}

/* Sends everything it can; FALSE when the server stopped reading. */
static gboolean
send_all (GSocket    *socket,
          const char *data,
          gsize       len)
{
  while (len > 0)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (socket, data, len, NULL, &error);

      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Reads until EOF, an error, or @timeout_s without data. */
static void
read_all (GSocket  *socket,
          guint     timeout_s,
          Exchange *ex)
{
  g_socket_set_timeout (socket, timeout_s);
  while (TRUE)
    {
      char buf[65536];
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (socket, buf, sizeof buf, NULL, &error);

      if (n == 0)
        return;
      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            ex->timed_out = TRUE;
          else
            ex->reset = TRUE;
          return;
        }
      g_byte_array_append (ex->reply, (const guint8 *) buf, (guint) n);
    }
}

/* One raw exchange: send @data, optionally half-close, read what comes back. */
static Exchange *
raw_exchange (guint       port,
              const char *data,
              gsize       len,
              gboolean    half_close,
              guint       timeout_s)
{
  g_autoptr(GSocketConnection) conn = connect_to (port);
  GSocket *socket = g_socket_connection_get_socket (conn);
  Exchange *ex = g_new0 (Exchange, 1);

  ex->reply = g_byte_array_new ();
  ex->write_failed = !send_all (socket, data, len);
  if (half_close && !ex->write_failed)
    g_socket_shutdown (socket, FALSE, TRUE, NULL);
  read_all (socket, timeout_s, ex);
  return ex;
}

static Exchange *
raw_string (guint       port,
            const char *request)
{
  return raw_exchange (port, request, strlen (request), FALSE, 10);
}

/* The status codes of every response in the reply, in order. */
static GArray *
statuses (Exchange *ex)
{
  GArray *codes = g_array_new (FALSE, FALSE, sizeof (guint));
  const char *p = (const char *) ex->reply->data;
  const char *end = p + ex->reply->len;

  while (p != NULL && p < end)
    {
      const char *found = g_strstr_len (p, end - p, "HTTP/1.");

      if (found == NULL || end - found < 12)
        break;
      /* "HTTP/1.x DDD ": a status line (bodies here are short JSON that never holds one;
       * a body without a final newline runs straight into the next status line) */
      if ((found[7] == '0' || found[7] == '1') && found[8] == ' ' &&
          g_ascii_isdigit (found[9]) && g_ascii_isdigit (found[10]) && g_ascii_isdigit (found[11]))
        {
          guint code = (guint) g_ascii_strtoull (found + 9, NULL, 10);

          g_array_append_val (codes, code);
        }
      p = found + 7;
    }
  return codes;
}

static guint
first_status (Exchange *ex)
{
  g_autoptr(GArray) codes = statuses (ex);

  return codes->len > 0 ? g_array_index (codes, guint, 0) : 0;
}

/* "Refused": a 4xx answer, or the connection closed without an answer. */
static void
assert_refused (Exchange   *ex,
                const char *what)
{
  guint status = first_status (ex);

  if (status == 0)
    {
      g_assert_false (ex->timed_out);
      g_test_message ("%s: connection closed without an answer", what);
      return;
    }
  g_test_message ("%s: %u", what, status);
  if (status < 400 || status > 499)
    g_error ("%s: expected a 4xx or a closed connection, got %u", what, status);
}

static void
assert_healthy (guint port)
{
  g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/healthz", port);
  g_autoptr(OddItResponse) r = odd_it_request ("GET", url, NULL, NULL, 0);

  g_assert_cmpuint (r->status, ==, 200);
}

static gint64
jobs_in_table (void)
{
  PGconn *conn = odd_it_pg (it);
  gint64 n = odd_it_pg_int (conn, "SELECT count(*) FROM jobs", NULL);

  PQfinish (conn);
  return n;
}

static char *
request_with_header (const char *path,
                     gsize       value_len)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: ", path);
  for (gsize i = 0; i < value_len; i++)
    g_string_append_c (s, 'a');
  g_string_append (s, "\r\n\r\n");
  return g_string_free (s, FALSE);
}

/* ---- headers ---- */

static void
test_huge_header (void)
{
  const guint ports[] = { gateway_port, read_model_port };
  const gsize sizes[] = { 64 * 1024, 1024 * 1024 };

  for (guint p = 0; p < G_N_ELEMENTS (ports); p++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        g_autofree char *request = request_with_header ("/healthz", sizes[s]);
        g_autoptr(Exchange) ex = raw_exchange (ports[p], request, strlen (request), FALSE, 10);
        g_autofree char *what = g_strdup_printf ("port %u, %zu-byte header", ports[p], sizes[s]);

        assert_refused (ex, what);
        assert_healthy (ports[p]);
      }

  /* and a large but sane one (16 KiB, e.g. cookies) still works */
  {
    g_autofree char *request = request_with_header ("/healthz", 16 * 1024);
    g_autoptr(Exchange) ex = raw_string (read_model_port, request);

    g_assert_cmpuint (first_status (ex), ==, 200);
  }
}

static char *
request_with_headers (guint n)
{
  GString *s = g_string_new ("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "X-H%u: v\r\n", i);
  g_string_append (s, "\r\n");
  return g_string_free (s, FALSE);
}

static void
test_many_headers (void)
{
  const guint ports[] = { gateway_port, read_model_port };

  for (guint p = 0; p < G_N_ELEMENTS (ports); p++)
    {
      g_autofree char *some = request_with_headers (100);
      g_autofree char *lots = request_with_headers (20000);
      g_autoptr(Exchange) ok = raw_string (ports[p], some);
      g_autoptr(Exchange) refused = raw_exchange (ports[p], lots, strlen (lots), FALSE, 10);

      g_assert_cmpuint (first_status (ok), ==, 200);
      assert_refused (refused, "20000 headers");
      assert_healthy (ports[p]);
    }
}

/* ---- slowloris ---- */

static void
test_slowloris (void)
{
  const guint ports[] = { gateway_port, read_model_port };
  const char *request = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  GSocketConnection *slow[G_N_ELEMENTS (ports)];
  gint64 opened = g_get_monotonic_time ();
  gint64 worst = 0;

  for (guint p = 0; p < G_N_ELEMENTS (ports); p++)
    slow[p] = connect_to (ports[p]);

  /* a byte a second, and meanwhile normal clients are served: each answer comes while the
   * slow request is still pending (neither answered nor closed) */
  for (guint i = 0; i < 6; i++)
    {
      for (guint p = 0; p < G_N_ELEMENTS (ports); p++)
        {
          GSocket *socket = g_socket_connection_get_socket (slow[p]);
          g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/healthz", ports[p]);
          gint64 start;

          g_assert_true (send_all (socket, request + i, 1));
          start = g_get_monotonic_time ();
          {
            g_autoptr(OddItResponse) r = odd_it_request ("GET", url, NULL, NULL, 0);

            g_assert_cmpuint (r->status, ==, 200);
          }
          worst = MAX (worst, g_get_monotonic_time () - start);
          g_assert_cmpuint (g_socket_condition_check (socket, G_IO_IN | G_IO_HUP | G_IO_ERR), ==, 0);
        }
      g_usleep (G_USEC_PER_SEC);
    }
  g_test_message ("slowloris: slowest normal request meanwhile %.1f ms", worst / 1000.0);

  /* the slow connections are closed by the server once the deadline passes */
  for (guint p = 0; p < G_N_ELEMENTS (ports); p++)
    {
      GSocket *socket = g_socket_connection_get_socket (slow[p]);
      Exchange ex = { .reply = g_byte_array_new () };
      gint64 waited;

      read_all (socket, REQUEST_READ_TIMEOUT_S + 20, &ex);
      waited = g_get_monotonic_time () - opened;
      g_test_message ("slowloris: port %u closed after %.1f s", ports[p], waited / (double) G_USEC_PER_SEC);
      g_assert_false (ex.timed_out);
      g_assert_cmpint (waited, >=, (REQUEST_READ_TIMEOUT_S - 1) * G_USEC_PER_SEC);
      g_byte_array_unref (ex.reply);
      g_object_unref (slow[p]);
      assert_healthy (ports[p]);
    }
}

/* ---- request line ---- */

typedef struct {
  const char *name;
  gboolean    gateway;
  const char *request;
  guint       status;   /* 0: refused (any 4xx or closed) */
} Line;

static const Line lines[] = {
  { "raw invalid UTF-8 in the path", FALSE, "GET /jobs/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400 },
  { "raw invalid UTF-8 in the query", FALSE, "GET /jobs?status=\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400 },
  { "escaped invalid UTF-8 in the path", FALSE, "GET /jobs/%FF%FE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400 },
  { "escaped invalid UTF-8 in the query", FALSE, "GET /jobs?status=%FF%FE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400 },
  { "escaped invalid UTF-8 in the cursor", FALSE, "GET /jobs?cursor=%C0%80 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400 },
  { "escaped NUL in the path", FALSE, "GET /jobs/%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400 },
  { "raw NUL in the path", FALSE, "GET /jobs/\x01\x7f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400 },
  { "invalid UTF-8 in a retry path", TRUE, "POST /jobs/\xff\xfe/retry HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 400 },
  { "unknown method BREW", TRUE, "BREW /jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405 },
  { "PATCH /jobs", TRUE, "PATCH /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 405 },
  { "lower-case get", TRUE, "get /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405 },
  { "TRACE on the read-model", FALSE, "TRACE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405 },
  { "CONNECT", TRUE, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0 },
  { "HTTP/2.0 request line", TRUE, "GET /healthz HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n", 505 },
  { "HTTP/0.9 request line", TRUE, "GET /healthz\r\n\r\n", 400 },
  { "binary garbage", TRUE, "\x16\x03\x01\x02\x01\x01\x01\x01\xfc\x03\x03\r\n\r\n", 400 },
};

static void
test_request_line (gconstpointer data)
{
  const Line *line = data;
  g_autoptr(Exchange) ex = raw_string (line->gateway ? gateway_port : read_model_port, line->request);

  if (line->status == 0)
    assert_refused (ex, line->name);
  else
    g_assert_cmpuint (first_status (ex), ==, line->status);
  g_assert_false (ex->timed_out);
}

/* ---- bodies ---- */

static char *
post_job (const char *body,
          gboolean    close)
{
  return g_strdup_printf ("POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n%s\r\n%s",
                          strlen (body), close ? "Connection: close\r\n" : "", body);
}

static void
test_numbers_out_of_range (void)
{
  static const char *const values[] = {
    "1e999", "-1e999", "18446744073709551616", "18446744073709551617", "9223372036854775808",
    "-9223372036854775809", "1e308", "123456789012345678901234567890",
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *body = g_strdup_printf ("{\"type\":\"hostile\",\"payload\":{\"simulate\":{\"durationMs\":%s}}}", values[i]);
      g_autofree char *request = post_job (body, TRUE);
      g_autoptr(Exchange) ex = raw_string (gateway_port, request);

      g_test_message ("durationMs %s: %u", values[i], first_status (ex));
      g_assert_cmpuint (first_status (ex), ==, 400);
    }

  /* Elsewhere in a payload, where no schema bounds them, an integer beyond 64 bits is kept
   * digit for digit (test-malformed's exact-payload); what no double or no PostgreSQL
   * numeric holds is refused, never mangled. */
  {
    static const char *const unstorable[] = { "1e999", "-1e400", "1e-16384", "0.5e-16383", "0e99999" };

    for (guint i = 0; i < G_N_ELEMENTS (unstorable); i++)
      {
        g_autofree char *body = g_strdup_printf ("{\"type\":\"hostile\",\"payload\":{\"n\":%s}}", unstorable[i]);
        g_autofree char *request = post_job (body, TRUE);
        g_autoptr(Exchange) ex = raw_string (gateway_port, request);

        g_test_message ("payload.n %s: %u", unstorable[i], first_status (ex));
        g_assert_cmpuint (first_status (ex), ==, 400);
      }
  }
}

static void
test_deep_nesting (void)
{
  const guint depths[] = { 65, 100000 };

  for (guint d = 0; d < G_N_ELEMENTS (depths); d++)
    {
      GString *body = g_string_new ("{\"type\":\"hostile\",\"payload\":{\"a\":");
      g_autofree char *request = NULL;
      g_autoptr(Exchange) ex = NULL;

      for (guint i = 0; i < depths[d]; i++)
        g_string_append_c (body, '[');
      for (guint i = 0; i < depths[d]; i++)
        g_string_append_c (body, ']');
      g_string_append (body, "}}");
      request = post_job (body->str, TRUE);
      g_string_free (body, TRUE);

      ex = raw_exchange (gateway_port, request, strlen (request), FALSE, 10);
      g_assert_cmpuint (first_status (ex), ==, 400);
    }
}

static void
test_http_1_0 (void)
{
  g_autoptr(Exchange) health = raw_string (gateway_port, "GET /healthz HTTP/1.0\r\n\r\n");
  g_autofree char *bad_job = g_strdup_printf ("POST /jobs HTTP/1.0\r\nContent-Type: application/json\r\n"
                                              "Content-Length: 2\r\n\r\n{}");
  g_autoptr(Exchange) job = raw_string (gateway_port, bad_job);
  g_autoptr(Exchange) rm = raw_string (read_model_port, "GET /healthz HTTP/1.0\r\n\r\n");

  g_assert_cmpuint (first_status (health), ==, 200);
  g_assert_cmpuint (first_status (job), ==, 400);
  g_assert_cmpuint (first_status (rm), ==, 200);
  /* HTTP/1.0 without keep-alive: the server closes after the answer */
  g_assert_false (health->timed_out);
  g_assert_false (rm->timed_out);
  g_assert_true (g_str_has_prefix ((const char *) health->reply->data, "HTTP/1.0 200"));
}

static void
test_pipelined (void)
{
  const char *rm_requests =
    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /jobs?limit=-1 HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  g_autofree char *first = post_job ("{}", FALSE);
  g_autofree char *second = post_job ("[", FALSE);
  g_autofree char *gw_requests = g_strconcat (first, second,
                                              "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                              NULL);
  g_autoptr(Exchange) rm = raw_string (read_model_port, rm_requests);
  g_autoptr(Exchange) gw = raw_string (gateway_port, gw_requests);
  g_autoptr(GArray) rm_codes = statuses (rm);
  g_autoptr(GArray) gw_codes = statuses (gw);

  /* every request answered, in order */
  g_assert_cmpuint (rm_codes->len, ==, 4);
  g_assert_cmpuint (g_array_index (rm_codes, guint, 0), ==, 200);
  g_assert_cmpuint (g_array_index (rm_codes, guint, 1), ==, 400);
  g_assert_cmpuint (g_array_index (rm_codes, guint, 2), ==, 200);
  g_assert_cmpuint (g_array_index (rm_codes, guint, 3), ==, 200);
  g_assert_cmpuint (gw_codes->len, ==, 3);
  g_assert_cmpuint (g_array_index (gw_codes, guint, 0), ==, 400);
  g_assert_cmpuint (g_array_index (gw_codes, guint, 1), ==, 400);
  g_assert_cmpuint (g_array_index (gw_codes, guint, 2), ==, 200);
}

static void
test_content_length_mismatch (void)
{
  /* announces 100 bytes, sends a valid 12-byte job, then closes: never a job */
  const char *longer =
    "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    "{\"type\":\"t\"}";
  /* announces 5: the rest is read as a (bad) next request */
  const char *shorter =
    "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n"
    "{\"type\":\"t\"}\r\n\r\n";
  const char *negative =
    "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n"
    "{\"type\":\"t\"}";
  g_autoptr(Exchange) a = raw_exchange (gateway_port, longer, strlen (longer), TRUE, 10);
  g_autoptr(Exchange) b = raw_exchange (gateway_port, shorter, strlen (shorter), TRUE, 10);
  g_autoptr(Exchange) c = raw_exchange (gateway_port, negative, strlen (negative), TRUE, 10);
  g_autoptr(GArray) b_codes = statuses (b);

  assert_refused (a, "Content-Length larger than the body");
  g_assert_cmpuint (b_codes->len, >=, 1);
  for (guint i = 0; i < b_codes->len; i++)
    g_assert_cmpuint (g_array_index (b_codes, guint, i), ==, 400);
  assert_refused (c, "Content-Length -1");
  assert_healthy (gateway_port);
}

static void
test_chunked_too_large (void)
{
  GString *request = g_string_new ("POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  g_autofree char *chunk = g_malloc (64 * 1024);
  g_autoptr(Exchange) ex = NULL;

  memset (chunk, ' ', 64 * 1024);
  chunk[0] = '{';
  for (guint i = 0; i < 32; i++)  /* 2 MiB */
    {
      g_string_append_printf (request, "%x\r\n", 64 * 1024);
      g_string_append_len (request, chunk, 64 * 1024);
      g_string_append (request, "\r\n");
    }
  g_string_append (request, "0\r\n\r\n");

  ex = raw_exchange (gateway_port, request->str, request->len, FALSE, 20);
  g_string_free (request, TRUE);
  g_assert_cmpuint (first_status (ex), ==, 413);
}

/* A body on a path that takes none, or over the limit, is refused from its headers: the 413
 * or 405 comes while the client still has almost all of it to send (a 300 MB POST /healthz
 * was once read whole, RSS 18 -> 503 MB). The connection is then closed. */
static void
test_refused_before_the_body (void)
{
  const guint ports[] = { gateway_port, read_model_port };

  for (guint p = 0; p < G_N_ELEMENTS (ports); p++)
    {
      const char *huge = "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         "Content-Length: 300000000\r\n\r\n{\"type\":";
      const char *huge_jobs = "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Content-Length: 300000000\r\n\r\n{\"type\":";
      const char *chunked = "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n100000\r\n{\"type\":";
      const char *get_body = "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
      /* the body never comes: only an answer from the headers can arrive within 10 s */
      g_autoptr(Exchange) a = raw_exchange (ports[p], huge, strlen (huge), FALSE, 10);
      g_autoptr(Exchange) b = raw_exchange (ports[p], huge_jobs, strlen (huge_jobs), FALSE, 10);
      g_autoptr(Exchange) c = raw_exchange (ports[p], chunked, strlen (chunked), FALSE, 10);
      g_autoptr(Exchange) d = raw_exchange (ports[p], get_body, strlen (get_body), FALSE, 10);
      Exchange *all[] = { a, b, c, d };
      const guint expected[] = { 413, 413, 405, 413 };

      for (guint i = 0; i < G_N_ELEMENTS (all); i++)
        {
          g_autofree char *reply = g_strndup ((const char *) all[i]->reply->data, all[i]->reply->len);
          const char *body = strstr (reply, "\r\n\r\n");
          g_autoptr(JsonNode) json = NULL;

          g_test_message ("port %u case %u: %s", ports[p], i, reply);
          g_assert_cmpuint (first_status (all[i]), ==, expected[i]);
          g_assert_false (all[i]->timed_out);
          g_assert_nonnull (body);
          json = json_from_string (body + 4, NULL);
          odd_it_assert_valid ("error", json);
        }
    }
  assert_healthy (gateway_port);
  assert_healthy (read_model_port);
}

/* A chunked body past 1 MiB is refused as it passes the limit, not read to its end. */
static void
test_chunked_refused_at_limit (void)
{
  GString *request = g_string_new ("POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n");
  g_autofree char *chunk = g_malloc (64 * 1024);
  g_autoptr(Exchange) ex = NULL;

  memset (chunk, ' ', 64 * 1024);
  chunk[0] = '{';
  for (guint i = 0; i < 20; i++)  /* 1.25 MiB, and no last chunk */
    {
      g_string_append_printf (request, "%x\r\n", 64 * 1024);
      g_string_append_len (request, chunk, 64 * 1024);
      g_string_append (request, "\r\n");
    }

  ex = raw_exchange (gateway_port, request->str, request->len, FALSE, 10);
  g_string_free (request, TRUE);
  g_assert_cmpuint (first_status (ex), ==, 413);
  g_assert_false (ex->timed_out);
}

static void
test_smuggling (void)
{
  /* both framings: the GET behind the body must not be answered as a second request */
  const char *cl_te =
    "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\n"
    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const char *te_cl =
    "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    "Content-Length: 60\r\n\r\n0\r\n\r\n"
    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  /* two lengths: libsoup alone took the last one and accepted the job */
  const char *two_lengths =
    "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    "Content-Length: 12\r\n\r\n{\"type\":\"t\"}";
  const char *cases[] = { cl_te, te_cl, two_lengths };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Exchange) ex = raw_exchange (gateway_port, cases[i], strlen (cases[i]), FALSE, 10);
      g_autoptr(GArray) codes = statuses (ex);

      g_assert_cmpuint (codes->len, ==, 1);
      g_assert_cmpuint (g_array_index (codes, guint, 0), ==, 400);
      g_assert_false (ex->timed_out);   /* and the connection is closed */
    }
}

/* Sockets of @port in CLOSE_WAIT: the client closed, the service did not (/proc/net/tcp,
 * state 08; the local port is the hex after the colon of the second column). */
static guint
close_wait_count (guint port)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) rows = NULL;
  g_autofree char *needle = g_strdup_printf (":%04X", port);
  guint n = 0;

  g_assert_true (g_file_get_contents ("/proc/net/tcp", &text, NULL, NULL));
  rows = g_strsplit (text, "\n", -1);
  for (guint i = 1; rows[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit_set (g_strstrip (rows[i]), " ", -1);
      g_autoptr(GPtrArray) cols = g_ptr_array_new ();

      for (guint f = 0; fields[f] != NULL; f++)
        if (fields[f][0] != '\0')
          g_ptr_array_add (cols, fields[f]);
      if (cols->len > 3 && g_str_has_suffix (cols->pdata[1], needle) &&
          g_str_equal (cols->pdata[3], "08"))
        n++;
    }
  return n;
}

/* libsoup 3.2.3 never closed the socket of a kept-alive connection that its client closed
 * between two requests: one descriptor lost per curl call, until `ulimit -n`. */
static void
test_client_closes_keep_alive (void)
{
  const guint ports[] = { gateway_port, read_model_port };

  for (guint p = 0; p < G_N_ELEMENTS (ports); p++)
    {
      guint left = 0;

      for (guint i = 0; i < 200; i++)
        {
          g_autoptr(GSocketConnection) conn = connect_to (ports[p]);
          GSocket *socket = g_socket_connection_get_socket (conn);
          const char *request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
          char buf[4096];

          g_assert_true (send_all (socket, request, strlen (request)));
          g_socket_set_timeout (socket, 10);
          g_assert_cmpint (g_socket_receive (socket, buf, sizeof buf, NULL, NULL), >, 0);
          g_socket_close (socket, NULL);
        }
      for (guint i = 0; i < 50 && (left = close_wait_count (ports[p])) > 0; i++)
        g_usleep (100 * 1000);
      g_test_message ("port %u: %u of 200 client-closed connections still open", ports[p], left);
      g_assert_cmpuint (left, ==, 0);
    }
}

static void
test_still_healthy (void)
{
  static const char *const paths[] = { "/healthz", "/readyz" };

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(JsonNode) gw = odd_it_get_json (odd_it_gateway_url (it), paths[i]);
      g_autoptr(JsonNode) rm = odd_it_get_json (odd_it_read_model_url (it), paths[i]);

      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (gw), "status"), ==, "ok");
      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (rm), "status"), ==, "ok");
    }

  /* give a stray job time to reach the table, then: none */
  g_usleep (2 * G_USEC_PER_SEC);
  g_assert_cmpint (jobs_in_table (), ==, jobs_at_start);

  /* the count can see a job when one is accepted */
  {
    g_autofree char *id = odd_uuid_new ();

    g_assert_cmpuint (odd_it_submit (it, id, "hostile-control", NULL), ==, 202);
    for (guint i = 0; i < 100 && jobs_in_table () == jobs_at_start; i++)
      g_usleep (100 * 1000);
    g_assert_cmpint (jobs_in_table (), ==, jobs_at_start + 1);
  }
}

static guint
port_of (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  g_assert_nonnull (uri);
  g_assert_cmpint (g_uri_get_port (uri), >, 0);
  return (guint) g_uri_get_port (uri);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* a server that resets a connection while we write must not kill the test */
  signal (SIGPIPE, SIG_IGN);

  it = odd_it_start ();
  gateway_port = port_of (odd_it_gateway_url (it));
  read_model_port = port_of (odd_it_read_model_url (it));
  jobs_at_start = jobs_in_table ();

  g_test_add_func ("/hostile/huge-header", test_huge_header);
  g_test_add_func ("/hostile/many-headers", test_many_headers);
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autofree char *name = g_strdup_printf ("/hostile/request-line-%02u", i);

      g_test_add_data_func (name, &lines[i], test_request_line);
    }
  g_test_add_func ("/hostile/numbers-out-of-range", test_numbers_out_of_range);
  g_test_add_func ("/hostile/deep-nesting", test_deep_nesting);
  g_test_add_func ("/hostile/http-1.0", test_http_1_0);
  g_test_add_func ("/hostile/pipelined", test_pipelined);
  g_test_add_func ("/hostile/content-length-mismatch", test_content_length_mismatch);
  g_test_add_func ("/hostile/chunked-2-mib", test_chunked_too_large);
  g_test_add_func ("/hostile/refused-before-the-body", test_refused_before_the_body);
  g_test_add_func ("/hostile/chunked-refused-at-limit", test_chunked_refused_at_limit);
  g_test_add_func ("/hostile/smuggling", test_smuggling);
  g_test_add_func ("/hostile/slowloris", test_slowloris);
  g_test_add_func ("/hostile/client-closes-keep-alive", test_client_closes_keep_alive);
  /* last: after everything above, both healthy and no job accepted */
  g_test_add_func ("/hostile/still-healthy", test_still_healthy);
  ret = g_test_run ();

  odd_it_stop (it);
  return ret;
}

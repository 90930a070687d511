/* odd-ids.c: UUIDs and RFC 3339 timestamps
 *
 * Both formats are checked on every validated message, so the checks here are hand-written
 * scanners that never allocate.
 */
#define G_LOG_DOMAIN "odd-ids"

#include "odd-ids.h"

#include <string.h>

/* Formatting by hand: the gateway makes two UUIDs and a timestamp per request, and printf
 * costs more than everything else in building an envelope. */
static char *
uuid_format (const guint8 bytes[16])
{
  static const char hex[] = "0123456789abcdef";
  char *out = g_malloc (37);
  char *p = out;

  for (guint i = 0; i < 16; i++)
    {
      if (i == 4 || i == 6 || i == 8 || i == 10)
        *p++ = '-';
      *p++ = hex[bytes[i] >> 4];
      *p++ = hex[bytes[i] & 0x0f];
    }
  *p = '\0';
  return out;
}

char *
odd_uuid_new (void)
{
  guint8 bytes[16];

  for (guint i = 0; i < 16; i += 4)
    {
      guint32 r = g_random_int ();
      memcpy (bytes + i, &r, 4);
    }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  /* version 4 */
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  /* variant RFC 4122 */
  return uuid_format (bytes);
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

gboolean
odd_uuid_is_valid (const char *str)
{
  if (str == NULL)
    return FALSE;

  for (guint i = 0; i < 36; i++)
    {
      char c = str[i];

      if (i == 8 || i == 13 || i == 18 || i == 23)
        {
          if (c != '-')
            return FALSE;
        }
      else if (hex_value (c) < 0)
        {
          /* Also catches the terminating NUL of a short string. */
          return FALSE;
        }
    }

  return str[36] == '\0';
}

static gboolean
uuid_parse (const char *str,
            guint8      bytes[16])
{
  guint n = 0;

  if (!odd_uuid_is_valid (str))
    return FALSE;

  for (const char *p = str; *p != '\0'; p++)
    {
      if (*p == '-')
        continue;
      bytes[n / 2] = (guint8) ((n % 2 == 0)
                               ? hex_value (*p) << 4
                               : bytes[n / 2] | hex_value (*p));
      n++;
    }

  return n == 32;
}

char *
odd_uuid_v5 (const char *namespace_uuid,
             const char *name)
{
  g_autoptr(GChecksum) sha1 = NULL;
  guint8 ns[16];
  guint8 digest[20];
  gsize digest_len = sizeof digest;

  g_return_val_if_fail (name != NULL, NULL);

  if (!uuid_parse (namespace_uuid, ns))
    {
      g_critical ("odd_uuid_v5: namespace '%s' is not a UUID", namespace_uuid ? namespace_uuid : "(null)");
      return NULL;
    }

  /* RFC 4122 section 4.3: SHA-1 over the namespace bytes (network order) then the name. */
  sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha1, ns, sizeof ns);
  g_checksum_update (sha1, (const guchar *) name, strlen (name));
  g_checksum_get_digest (sha1, digest, &digest_len);

  digest[6] = (digest[6] & 0x0f) | 0x50;  /* version 5 */
  digest[8] = (digest[8] & 0x3f) | 0x80;  /* variant RFC 4122 */

  return uuid_format (digest);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm):
 * exact for every year, with no time zone or locale involved. */
static gint64
days_from_civil (gint64 y,
                 guint  m,
                 guint  d)
{
  gint64 era;
  guint yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (guint) (y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

  return era * 146097 + (gint64) doe - 719468;
}

static void
civil_from_days (gint64  z,
                 gint64 *year,
                 guint  *month,
                 guint  *day)
{
  gint64 era;
  guint doe, yoe, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (guint) (z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = (gint64) yoe + era * 400 + (*month <= 2);
}

static void
put_digits (char  *out,
            guint  value,
            guint  width)
{
  for (guint i = width; i > 0; i--)
    {
      out[i - 1] = (char) ('0' + value % 10);
      value /= 10;
    }
}

char *
odd_time_format_rfc3339 (gint64 unix_usec)
{
  /* Floor division, so instants before 1970 still format correctly. */
  gint64 msec = unix_usec >= 0 ? unix_usec / 1000 : -((-unix_usec + 999) / 1000);
  gint64 days = msec >= 0 ? msec / 86400000 : -((-msec + 86399999) / 86400000);
  gint64 ms_of_day = msec - days * 86400000;
  gint64 year;
  guint month, day;
  char *out;

  civil_from_days (days, &year, &month, &day);

  /* Years outside 0000-9999 do not fit RFC 3339; they only come from bogus input. */
  if (year < 0 || year > 9999)
    return g_strdup_printf ("%04" G_GINT64_FORMAT "-%02u-%02uT%02u:%02u:%02u.%03uZ",
                            year, month, day,
                            (guint) (ms_of_day / 3600000),
                            (guint) (ms_of_day / 60000 % 60),
                            (guint) (ms_of_day / 1000 % 60),
                            (guint) (ms_of_day % 1000));

  out = g_malloc (25);
  put_digits (out, (guint) year, 4);
  out[4] = '-';
  put_digits (out + 5, month, 2);
  out[7] = '-';
  put_digits (out + 8, day, 2);
  out[10] = 'T';
  put_digits (out + 11, (guint) (ms_of_day / 3600000), 2);
  out[13] = ':';
  put_digits (out + 14, (guint) (ms_of_day / 60000 % 60), 2);
  out[16] = ':';
  put_digits (out + 17, (guint) (ms_of_day / 1000 % 60), 2);
  out[19] = '.';
  put_digits (out + 20, (guint) (ms_of_day % 1000), 3);
  out[23] = 'Z';
  out[24] = '\0';
  return out;
}

char *
odd_time_now_rfc3339 (void)
{
  return odd_time_format_rfc3339 (g_get_real_time ());
}

static gboolean
read_digits (const char **p,
             guint        n,
             guint       *value)
{
  guint v = 0;

  for (guint i = 0; i < n; i++)
    {
      char c = (*p)[i];

      if (c < '0' || c > '9')
        return FALSE;
      v = v * 10 + (guint) (c - '0');
    }

  *p += n;
  *value = v;
  return TRUE;
}

static gboolean
is_leap_year (guint year)
{
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static guint
days_in_month (guint year,
               guint month)
{
  static const guint days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

  if (month == 2 && is_leap_year (year))
    return 29;
  return days[month - 1];
}

gboolean
odd_time_parse_rfc3339 (const char *str,
                        gint64     *unix_usec)
{
  const char *p = str;
  guint year, month, day, hour, minute, second;
  guint usec = 0;
  gint offset_minutes = 0;
  gint64 utc_minute_of_day;
  gint64 result;

  if (str == NULL)
    return FALSE;

  /* full-date = date-fullyear "-" date-month "-" date-mday */
  if (!read_digits (&p, 4, &year) || *p++ != '-' ||
      !read_digits (&p, 2, &month) || *p++ != '-' ||
      !read_digits (&p, 2, &day))
    return FALSE;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month (year, month))
    return FALSE;

  /* RFC 3339 5.6 allows a lower-case t and z. */
  if (*p != 'T' && *p != 't')
    return FALSE;
  p++;

  if (!read_digits (&p, 2, &hour) || *p++ != ':' ||
      !read_digits (&p, 2, &minute) || *p++ != ':' ||
      !read_digits (&p, 2, &second))
    return FALSE;
  if (hour > 23 || minute > 59 || second > 60)
    return FALSE;

  if (*p == '.')
    {
      guint scale = 100000;

      p++;
      if (*p < '0' || *p > '9')
        return FALSE;
      /* Any number of digits; beyond microseconds they are only checked. */
      for (; *p >= '0' && *p <= '9'; p++)
        {
          usec += (guint) (*p - '0') * scale;
          scale /= 10;
        }
    }

  if (*p == 'Z' || *p == 'z')
    {
      p++;
    }
  else if (*p == '+' || *p == '-')
    {
      gint sign = *p == '-' ? -1 : 1;
      guint off_hour, off_minute;

      p++;
      if (!read_digits (&p, 2, &off_hour) || *p++ != ':' ||
          !read_digits (&p, 2, &off_minute))
        return FALSE;
      if (off_hour > 23 || off_minute > 59)
        return FALSE;
      offset_minutes = sign * (gint) (off_hour * 60 + off_minute);
    }
  else
    {
      return FALSE;
    }

  if (*p != '\0')
    return FALSE;

  /* A leap second exists only at 23:59:60 UTC; the local time carries the offset. */
  utc_minute_of_day = ((gint64) hour * 60 + minute - offset_minutes) % 1440;
  if (utc_minute_of_day < 0)
    utc_minute_of_day += 1440;
  if (second == 60 && utc_minute_of_day != 23 * 60 + 59)
    return FALSE;

  if (unix_usec != NULL)
    {
      result = days_from_civil (year, month, day) * 86400
               + (gint64) hour * 3600 + (gint64) minute * 60 + second
               - (gint64) offset_minutes * 60;
      *unix_usec = result * G_USEC_PER_SEC + usec;
    }

  return TRUE;
}

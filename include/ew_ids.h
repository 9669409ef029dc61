/*
 * ew_ids: the request and trace ids a failure carries, taken from the
 * request only when well-formed, so that every format can print them as
 * they are: mod_unique_id's UNIQUE_ID, the W3C traceparent header's trace
 * id, and Datadog's x-datadog-trace-id. Pure string work.
 */
#ifndef EW_IDS_H
#define EW_IDS_H

#include <stddef.h>

/* Character classes of the three ids. */
int ew_unique_id_char(int c); /* A-Z a-z 0-9 @ - _ */
int ew_hex_char(int c);       /* 0-9 a-f (W3C ids are lowercase) */
int ew_digit_char(int c);

/* UNIQUE_ID into out (size bytes): 1 if value is 1..size-1 id characters,
 * else 0 and out is "". */
int ew_take_unique_id(const char *value, char *out, size_t size);

/* The trace id of a traceparent header ("00-<32 hex>-<16 hex>-<2 hex>",
 * a later version may add "-..." after) into out (33 bytes): 1 if the
 * header is well-formed and neither id is all zeros, else 0 and out is
 * "". */
int ew_take_traceparent(const char *value, char *out, size_t size);

/* x-datadog-trace-id (a non-zero unsigned 64-bit decimal) into out (at
 * least 21 bytes): 1 if well-formed, else 0 and out is "". */
int ew_take_dd_trace_id(const char *value, char *out, size_t size);

#endif

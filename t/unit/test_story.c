/* Unit tests of the error story: order, budget, the head-and-tail cut and
 * the most severe line kept through any cut. */
#include <stdio.h>
#include <string.h>

#include "ew_story.h"
#include "unit.h"

static ew_story_builder b;

static const char *written(size_t size)
{
    static char out[EW_STORY_MAX * 2];
    size_t n = ew_story_write(&b, out, size);
    ck_assert_uint_eq(n, strlen(out));
    ck_assert_uint_lt(n, size);
    return out;
}

START_TEST(lines_in_order)
{
    ew_story_reset(&b);
    ck_assert_str_eq(written(EW_STORY_MAX), "");
    ew_story_add(&b, 3, "AH01215: stderr from /srv/die.pl: config file /etc/app.conf missing");
    ew_story_add(&b, 3, "End of script output before headers: die.pl");
    ck_assert_str_eq(written(EW_STORY_MAX),
                     "AH01215: stderr from /srv/die.pl: config file /etc/app.conf missing\n"
                     "End of script output before headers: die.pl");
}
END_TEST

/* A 15-frame Python traceback (32 lines) fits whole. */
START_TEST(a_python_traceback_fits_whole)
{
    char line[128];
    ew_story_reset(&b);
    ew_story_add(&b, 3,
                 "mod_wsgi (pid=1234): Exception occurred processing WSGI script "
                 "'/srv/app.wsgi'.");
    ew_story_add(&b, 3, "Traceback (most recent call last):");
    for (int i = 0; i < 15; i++) {
        snprintf(line, sizeof(line), "  File \"/srv/lib/mod%02d.py\", line %d, in f%02d", i, 10 + i,
                 i);
        ew_story_add(&b, 3, line);
        snprintf(line, sizeof(line), "    return f%02d(x + 1)", i + 1);
        ew_story_add(&b, 3, line);
    }
    ew_story_add(&b, 3, "ZeroDivisionError: division by zero");
    const char *s = written(EW_STORY_MAX);
    ck_assert_ptr_null(strstr(s, "cut"));
    ck_assert_ptr_nonnull(strstr(s, "Traceback (most recent call last):\n  File"));
    ck_assert_ptr_nonnull(strstr(s, "mod14.py\", line 24, in f14\n    return f15(x + 1)\n"
                                    "ZeroDivisionError: division by zero"));
    int lines = 1;
    for (const char *p = s; *p != '\0'; p++) {
        lines += *p == '\n';
    }
    ck_assert_int_eq(lines, 33);
}
END_TEST

/* Too many lines: the first EW_STORY_HEAD, a marker, the last
 * EW_STORY_TAIL; the most severe line, from the cut middle, comes right
 * after the marker. */
START_TEST(head_and_tail_with_the_worst_kept)
{
    char line[64];
    ew_story_reset(&b);
    for (int i = 0; i < 100; i++) {
        snprintf(line, sizeof(line), "line %03d", i);
        ew_story_add(&b, i == 50 ? 2 : 4, line);
    }
    const char *s = written(EW_STORY_MAX);
    ck_assert_ptr_nonnull(strstr(s, "line 000\nline 001\n"));
    ck_assert_ptr_nonnull(strstr(s, "line 007\n[... 52 lines cut ...]\nline 050\nline 060\n"));
    ck_assert_ptr_null(strstr(s, "line 008"));
    ck_assert_ptr_null(strstr(s, "line 059"));
    ck_assert_int_eq(strcmp(s + strlen(s) - 8, "line 099"), 0);

    /* Kept in the tail, it is not repeated. */
    ew_story_reset(&b);
    for (int i = 0; i < 100; i++) {
        snprintf(line, sizeof(line), "line %03d", i);
        ew_story_add(&b, i == 95 ? 2 : 4, line);
    }
    s = written(EW_STORY_MAX);
    ck_assert_ptr_nonnull(strstr(s, "line 007\n[... 52 lines cut ...]\nline 060\n"));
}
END_TEST

/* A small budget: lines go from the middle (the oldest tail lines first),
 * the marker counts them, and the first line and the worst stay. */
START_TEST(small_budget_cuts_the_middle)
{
    char line[64];
    ew_story_reset(&b);
    for (int i = 0; i < 20; i++) {
        snprintf(line, sizeof(line), "line %03d", i);
        ew_story_add(&b, i == 9 ? 1 : 5, line);
    }
    const char *s = written(120);
    ck_assert_int_eq(strncmp(s, "line 000\n", 9), 0);
    ck_assert_ptr_nonnull(strstr(s, "lines cut ...]\nline 009\n"));
    ck_assert_int_eq(strcmp(s + strlen(s) - 8, "line 019"), 0);
    /* Tiny: the first line alone, cut to fit. */
    s = written(6);
    ck_assert_str_eq(s, "line ");
}
END_TEST

/* A raw line break cannot split a line; long lines are cut. */
START_TEST(raw_breaks_escaped_and_long_lines_cut)
{
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ew_story_reset(&b);
    ew_story_add(&b, 3, "PHP Fatal error: boom\n#0 {main}\r");
    ew_story_add(&b, 3, big);
    ew_story_add(&b, 3, NULL);
    const char *s = written(EW_STORY_MAX);
    ck_assert_int_eq(strncmp(s, "PHP Fatal error: boom\\n#0 {main}\\r\nxxx", 38), 0);
    ck_assert_uint_eq(strlen(s),
                      strlen("PHP Fatal error: boom\\n#0 {main}\\r\n") + EW_STORY_LINE_MAX - 1);
}
END_TEST

/* A line cut at the budget never ends in half an escape or half a UTF-8
 * character. */
START_TEST(cut_keeps_escapes_and_characters_whole)
{
    static ew_story_builder sb;
    char line[EW_STORY_LINE_MAX + 8];
    /* 238 bytes, then a line break: its escape would need bytes 239-240. */
    memset(line, 'a', EW_STORY_LINE_MAX - 2);
    strcpy(line + EW_STORY_LINE_MAX - 2, "\nzz");
    ew_story_reset(&sb);
    ew_story_add(&sb, 3, line);
    ck_assert_uint_eq(strlen(sb.head[0]), EW_STORY_LINE_MAX - 2);
    ck_assert_int_ne(sb.head[0][EW_STORY_LINE_MAX - 3], '\\');
    /* 238 bytes, then a two-byte character across the cut. */
    memset(line, 'b', EW_STORY_LINE_MAX - 2);
    strcpy(line + EW_STORY_LINE_MAX - 2, "\xc3\xa9\xc3\xa9");
    ew_story_add(&sb, 3, line);
    ck_assert_uint_eq(strlen(sb.head[1]), EW_STORY_LINE_MAX - 2);
    /* Escapes inside the line. */
    ew_story_add(&sb, 2, "one\ntwo\rthree");
    ck_assert_str_eq(sb.head[2], "one\\ntwo\\rthree");
    ck_assert_str_eq(sb.worst, "one\\ntwo\\rthree");
}
END_TEST

/* The line's edges: exactly what fits, one byte more, CR LF, a break
 * first and last. */
START_TEST(line_edges)
{
    char line[EW_STORY_LINE_MAX + 8];
    char out[EW_STORY_LINE_MAX];
    memset(line, 'c', EW_STORY_LINE_MAX - 1);
    line[EW_STORY_LINE_MAX - 1] = '\0';
    ck_assert_uint_eq(ew_story_line(out, line), EW_STORY_LINE_MAX - 1); /* fits exactly */
    ck_assert_str_eq(out, line);
    line[EW_STORY_LINE_MAX - 1] = 'd';
    line[EW_STORY_LINE_MAX] = '\0';
    ck_assert_uint_eq(ew_story_line(out, line), EW_STORY_LINE_MAX - 1); /* one more: cut */
    ck_assert_int_eq(out[EW_STORY_LINE_MAX - 2], 'c');
    ck_assert_uint_eq(ew_story_line(out, "a\r\nb"), 6);
    ck_assert_str_eq(out, "a\\r\\nb");
    ck_assert_uint_eq(ew_story_line(out, "\nx\n"), 5);
    ck_assert_str_eq(out, "\\nx\\n");
    ck_assert_uint_eq(ew_story_line(out, ""), 0);
    ck_assert_str_eq(out, "");
}
END_TEST

Suite *story_suite(void)
{
    Suite *s = suite_create("story");
    TCase *tc = tcase_create("story");
    tcase_add_test(tc, lines_in_order);
    tcase_add_test(tc, a_python_traceback_fits_whole);
    tcase_add_test(tc, head_and_tail_with_the_worst_kept);
    tcase_add_test(tc, small_budget_cuts_the_middle);
    tcase_add_test(tc, raw_breaks_escaped_and_long_lines_cut);
    tcase_add_test(tc, cut_keeps_escapes_and_characters_whole);
    tcase_add_test(tc, line_edges);
    suite_add_tcase(s, tc);
    return s;
}

/*
 * The C example and test of double-random's C ABI: a draw, its
 * verification, a tampered file reported, and a bad input's position.
 *
 *   draw_and_verify PLAN OUT BAD_PLAN
 *
 * PLAN is a good plan, OUT a folder that does not exist yet, BAD_PLAN a
 * plan whose entities.csv has an invalid risk class on line 3.
 * Exit code 0 when every check holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "double_random.h"

static int failures = 0;

static void expect(int ok, const char *what, const char *answer) {
    if (!ok) {
        fprintf(stderr, "FAILED: %s\n%s\n", what, answer ? answer : "(null)");
        failures++;
    } else {
        printf("ok: %s\n", what);
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PLAN OUT BAD_PLAN\n", argv[0]);
        return 2;
    }
    const char *plan = argv[1], *out = argv[2], *bad = argv[3];
    char request[4096];
    printf("double-random %s\n", dr_version());

    /* A draw. Paths here hold no quote or backslash, so they need no JSON escaping. */
    snprintf(request, sizeof request,
             "{\"plans\": [\"%s\"], \"seed\": \"2027-03-01 lottery 0417 2953\", \"out\": \"%s\"}", plan, out);
    char *answer = dr_draw(request);
    expect(answer && strstr(answer, "\"ok\": true") && strstr(answer, "\"spec\": \"DR3\""), "the draw succeeds", answer);
    dr_free(answer);

    /* Its verification. */
    snprintf(request, sizeof request, "{\"record\": \"%s/record.json\"}", out);
    answer = dr_verify(request);
    expect(answer && strstr(answer, "\"verified\": true"), "the draw verifies", answer);
    dr_free(answer);

    /* A tampered output: one line appended to the selection. */
    char path[4096];
    snprintf(path, sizeof path, "%s/selection.csv", out);
    FILE *f = fopen(path, "a");
    if (!f) {
        perror(path);
        return 2;
    }
    fputs("forged,row\n", f);
    fclose(f);
    answer = dr_verify(request);
    expect(answer && strstr(answer, "\"verified\": false") && strstr(answer, "selection.csv"),
           "the tampered selection.csv is reported", answer);
    dr_free(answer);

    /* A bad input: the error names the file, the line and the field. */
    snprintf(request, sizeof request, "{\"plan\": \"%s\"}", bad);
    answer = dr_commit(request);
    expect(answer && strstr(answer, "\"ok\": false") && strstr(answer, "\"code\": \"invalid_field\"") &&
               strstr(answer, "\"file\": \"entities.csv\"") && strstr(answer, "\"line\": 3") &&
               strstr(answer, "\"field\": \"risk_class\""),
           "a bad risk class is reported with file, line and field", answer);
    dr_free(answer);

    /* A malformed request and an unknown command are errors, not crashes. */
    answer = dr_draw("{\"plans\": 3}");
    expect(answer && strstr(answer, "\"file\": \"request\""), "a malformed request is an error", answer);
    dr_free(answer);
    answer = dr_call("dance", "{}");
    expect(answer && strstr(answer, "\"code\": \"unknown_reference\""), "an unknown command is an error", answer);
    dr_free(answer);
    answer = dr_verify(NULL);
    expect(answer && strstr(answer, "\"ok\": false"), "a NULL request is an error", answer);
    dr_free(answer);
    dr_free(NULL);

    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}

/* Fuzz target: the config loader and printer on any text. A config that
 * loads must print, and its print must load again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct conf_errors errs = {0};
    struct conf *c = conf_load_string(text, "fuzz.conf", &errs);
    conf_errors_free(&errs);
    if (c != NULL) {
        char *out = NULL;
        size_t outlen = 0;
        FILE *f = open_memstream(&out, &outlen);
        if (f != NULL) {
            conf_print(c, f);
            fclose(f);
            struct conf_errors errs2 = {0};
            struct conf *c2 = conf_load_string(out, "printed.conf", &errs2);
            if (c2 == NULL) {
                for (size_t i = 0; i < errs2.n; i++)
                    fprintf(stderr, "%s\n", errs2.msgs[i]);
                abort(); /* the printed config must load */
            }
            conf_free(c2);
            conf_errors_free(&errs2);
            free(out);
        }
        conf_free(c);
    }
    free(text);
    return 0;
}

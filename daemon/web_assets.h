/* The dashboard's files, compiled into ecmond (cmake/embed.cmake). */
#ifndef ECMON_WEB_ASSETS_H
#define ECMON_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *path; /* "/index.html" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t size;
};

extern const struct web_asset web_assets[];
extern const unsigned web_nassets;

#endif

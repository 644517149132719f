/* Graphs straight from the RRD files (DESIGN §7, §8): a quota's usage
 * against its limit, the park's treatment capacity, a meter's points; PNG
 * or SVG, drawn by librrd. The only librrd user for graphs. */
#ifndef ECMON_RRD_GRAPH_H
#define ECMON_RRD_GRAPH_H

#include <stddef.h>

#include "config/config.h"

/* Font families tried in turn for each character (a pango list): Latin
 * text in DejaVu Sans, whose metrics librrd's legend layout expects (with
 * a CJK font first, the legend boxes cover the first letters), Chinese
 * names in a CJK font (scripts/deps.sh installs fonts-noto-cjk). */
#define RRDGRAPH_FONT "DejaVu Sans,Noto Sans CJK SC,WenQuanYi Zen Hei"

#define RRDGRAPH_WIDTH 800
#define RRDGRAPH_HEIGHT 400
#define RRDGRAPH_SIZE_MIN 200
#define RRDGRAPH_SIZE_MAX 8000

enum rrdgraph_what {
    RRDGRAPH_QUOTA,    /* <owner>/quota-<quota>.rrd */
    RRDGRAPH_CAPACITY, /* park/capacity.rrd */
    RRDGRAPH_METER,    /* <owner>/<meter>.rrd */
};

struct rrdgraph_req {
    enum rrdgraph_what what;
    /* "ENT/QUOTA" or "ENT/METER", ENT an enterprise id or "park" for the
     * park's own; unused for the capacity. */
    const char *target;
    /* Span, in rrdtool's time syntax ("now-2d", "end-1y", Unix seconds, in
     * the park's time zone); NULL: the default, the current period for a
     * quota, the last 30 days for the capacity, 2 days for a meter. */
    const char *from, *to;
    int width, height; /* of the whole image, in pixels; 0: the default */
    /* rrdgraph_render's file; ".png" or ".svg" picks the format. Unused by
     * rrdgraph_render_mem. */
    const char *output;
};

/* Render the graph `r` asks for from the RRD files of c, as `format`
 * ("png" or "svg", any case), into a new buffer: *out, *outlen bytes,
 * malloc'd, the caller frees it. An SVG carries its title and legend as
 * text (<title>, <desc>). Makes the park's zone the process's local zone
 * (TZ), so that periods, times and the axis follow it. With
 * storage.rrdcached set, rrdcached writes what it holds for the files
 * before they are read. Returns 0, or -1 with a message in err and *out
 * untouched: a bad format or size, an unknown enterprise, quota or meter,
 * a missing RRD file ("no data yet"), a bad time, rrdcached unreachable,
 * or librrd's error. */
int rrdgraph_render_mem(const struct conf *c, const struct rrdgraph_req *r,
                        const char *format, unsigned char **out, size_t *outlen,
                        char *err, size_t errlen);

/* rrdgraph_render_mem into the file r->output, its format from the
 * extension: written to "<output>.tmp", then renamed over r->output, so
 * that no reader sees half an image. Returns 0, or -1 with a message in
 * err (as rrdgraph_render_mem, or a bad extension, or the file's error);
 * on error r->output is left as it was. */
int rrdgraph_render(const struct conf *c, const struct rrdgraph_req *r,
                    char *err, size_t errlen);

#endif

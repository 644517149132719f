/* The control protocol codec (pure). */
#include "daemon/ctl_proto.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int min_args, max_args;
} cmds[] = {
    [CTL_STATUS] = {"status", 0, 0},
    [CTL_METERS] = {"meters", 0, 1},
    [CTL_USAGE] = {"usage", 0, 1},
    [CTL_ALERTS] = {"alerts", 0, 0},
    [CTL_CAPACITY] = {"capacity", 0, 0},
    [CTL_VALUE_ADDED] = {"value-added", 3, 3},
    [CTL_RELOAD] = {"reload", 0, 0},
    [CTL_MQTT_ACL] = {"mqtt-acl", 0, 0},
    [CTL_FLUSH] = {"flush", 0, 2},
};

const char *
ctl_cmd_name(enum ctl_cmd cmd)
{
    return cmds[cmd].name;
}

static int
word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
           c == '+' || c == '-';
}

int
ctl_parse(const char *buf, size_t len, struct ctl_req *req, char *err,
          size_t errlen)
{
    char words[CTL_MAX_ARGS + 1][CTL_MAX_ARG];
    int nwords = 0;
    size_t i = 0;

    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (len > CTL_MAX_LINE) {
        snprintf(err, errlen, "request longer than %d bytes", CTL_MAX_LINE);
        return -1;
    }
    while (i < len) {
        if (buf[i] == ' ' || buf[i] == '\t') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && word_char(buf[i]))
            i++;
        if (i < len && buf[i] != ' ' && buf[i] != '\t') {
            snprintf(err, errlen, "bad character 0x%02x in request",
                     (unsigned char)buf[i]);
            return -1;
        }
        if (nwords > CTL_MAX_ARGS) {
            snprintf(err, errlen, "too many arguments");
            return -1;
        }
        if (i - start >= CTL_MAX_ARG) {
            snprintf(err, errlen, "argument longer than %d bytes",
                     CTL_MAX_ARG - 1);
            return -1;
        }
        memcpy(words[nwords], buf + start, i - start);
        words[nwords][i - start] = '\0';
        nwords++;
    }
    if (nwords == 0) {
        snprintf(err, errlen, "empty request");
        return -1;
    }
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
        if (strcmp(words[0], cmds[c].name) != 0)
            continue;
        int argc = nwords - 1;
        if (argc < cmds[c].min_args || argc > cmds[c].max_args) {
            snprintf(err, errlen, "%s: wrong number of arguments",
                     cmds[c].name);
            return -1;
        }
        req->cmd = (enum ctl_cmd)c;
        req->argc = argc;
        for (int a = 0; a < argc; a++)
            memcpy(req->argv[a], words[a + 1], CTL_MAX_ARG);
        return 0;
    }
    snprintf(err, errlen, "unknown command '%s'", words[0]);
    return -1;
}

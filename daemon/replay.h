/* ecmond -r: replay readings from a CSV file through the daemon's path. */
#ifndef ECMON_REPLAY_H
#define ECMON_REPLAY_H

struct ecmond;

/* Replay `path` ("-" for stdin) into d, whose outputs are open
 * (ecmond_open_outputs with replay set) and state_dir locked. Prints a
 * summary on stdout and each bad line as file:line: message on stderr.
 * Returns the exit status: 0, or 1 when a line was bad or the file could
 * not be read. */
int ecmond_replay(struct ecmond *d, const char *path);

#endif

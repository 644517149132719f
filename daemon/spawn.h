/* Running a program from the daemon: fork and execve, no shell, in a
 * process group of its own (so that a timeout can kill what it starts),
 * with default signal dispositions and no descriptors of the daemon's
 * except those it is given. Used for the alert hook and the graph
 * renderer. */
#ifndef ECMON_SPAWN_H
#define ECMON_SPAWN_H

#include <sys/types.h>

/* Start argv[0] with argv and envp (NULL: the daemon's environment).
 * Standard input is /dev/null; standard output and error are out_fd and
 * err_fd, or the daemon's own when -1. Everything argv and envp point to
 * must be ready before the call: the child only makes async-signal-safe
 * calls. Returns the child's pid, or -1 (errno set) when fork fails; a
 * program that cannot be executed exits 127. */
pid_t spawn_child(char *const argv[], char *const envp[], int out_fd,
                  int err_fd);

#endif
